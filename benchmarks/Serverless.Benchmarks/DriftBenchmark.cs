using System.Diagnostics;
using System.Runtime.InteropServices;
using Serverless.Core.Monitoring;

namespace Serverless.Benchmarks;

/// <summary>
/// A drift check's statistics on 1,000,000 current rows × 10 numeric features against a 100,000-row reference, on one
/// thread: per feature what a check computes (missing values dropped, both samples sorted, Kolmogorov–Smirnov with its
/// p-value, normalized Wasserstein, PSI on Evidently's bins, the verdict). The baseline, on the same arrays and machine,
/// is scipy's <c>ks_2samp</c> alone (benchmarks/drift/ks_scipy.py, run with /usr/bin/python3 when scipy is there).
/// </summary>
public static class DriftSpeed
{
    public static int Run(int currentRows, int referenceRows, int features, int runs)
    {
        var (reference, current) = Generate(currentRows, referenceRows, features);
        var settings = new DriftSettings();
        Console.WriteLine($"drift check: {currentRows:N0} current rows x {features} numeric features vs {referenceRows:N0} reference rows, {runs} runs after a warm-up, one thread");

        var pValues = new double[features];
        double Check()
        {
            var watch = Stopwatch.StartNew();
            var drifted = 0;
            for (var f = 0; f < features; f++)
            {
                var result = DriftDetector.CompareNumeric($"f{f}", reference[f], current[f], referenceRows, settings)!;
                if (result.Drifted) drifted++;
                pValues[f] = result.Statistics["ksPValue"];
            }
            watch.Stop();
            if (drifted != features / 2) throw new InvalidOperationException($"{drifted} features drifted; the data shifts {features / 2}.");
            return watch.Elapsed.TotalMilliseconds;
        }

        Check();
        var times = Enumerable.Range(0, runs).Select(_ => Check()).Order().ToList();
        var median = times[times.Count / 2];
        Console.WriteLine($"C# drift check (KS + p-value, Wasserstein, PSI, verdict): median {median:F1} ms (min {times[0]:F1}, max {times[^1]:F1})");
        Console.WriteLine($"C# KS p-values: [{string.Join(", ", pValues.Select(p => $"'{p:G3}'"))}]");

        var scipy = RunScipy(reference, current, runs);
        if (scipy is { } s)
        {
            Console.WriteLine($"scipy.stats.ks_2samp alone on the same arrays: median {s:F1} ms");
            Console.WriteLine($"ratio C# check / scipy ks_2samp: {median / s:F3}");
        }
        return 0;
    }

    /// <summary>Normal features; the odd ones of the current sample shifted by half a standard deviation.</summary>
    private static (double[][] Reference, double[][] Current) Generate(int currentRows, int referenceRows, int features)
    {
        var random = new Random(20261126);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var reference = new double[features][];
        var current = new double[features][];
        for (var f = 0; f < features; f++)
        {
            var scale = 1 + f;
            reference[f] = new double[referenceRows];
            current[f] = new double[currentRows];
            for (var i = 0; i < referenceRows; i++) reference[f][i] = Math.Round(Normal() * scale, 4);
            var shift = f % 2 == 1 ? 0.5 * scale : 0;
            for (var i = 0; i < currentRows; i++) current[f][i] = Math.Round(Normal() * scale + shift, 4);
        }
        return (reference, current);
    }

    /// <summary>Writes the arrays as raw float64 and times scipy's ks_2samp on them; null when python3 with scipy is not there.</summary>
    private static double? RunScipy(double[][] reference, double[][] current, int runs)
    {
        const string python = "/usr/bin/python3";
        var script = Path.Combine(FindRoot(), "benchmarks", "drift", "ks_scipy.py");
        if (!File.Exists(python))
        {
            Console.WriteLine($"scipy baseline skipped: no {python} (apt-get install -y python3-scipy)");
            return null;
        }
        var dir = Directory.CreateTempSubdirectory("drift-bench-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "reference.f64"), MemoryMarshal.AsBytes(reference.SelectMany(r => r).ToArray().AsSpan()).ToArray());
            File.WriteAllBytes(Path.Combine(dir, "current.f64"), MemoryMarshal.AsBytes(current.SelectMany(r => r).ToArray().AsSpan()).ToArray());
            var start = new ProcessStartInfo(python, [script, dir, reference.Length.ToString(), runs.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.WriteLine($"scipy baseline failed: {error.Trim()}");
                return null;
            }
            Console.Write(output);
            var last = output.Trim().Split('\n')[^1];
            return double.Parse(last.Split(' ')[^2], System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Serverless.sln"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
