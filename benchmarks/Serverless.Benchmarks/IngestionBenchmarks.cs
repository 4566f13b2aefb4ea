using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Benchmarks;

/// <summary>
/// Ingest + validate + profile + canonicalize of the taxi data scaled to <see cref="Megabytes"/>, on one thread, against
/// a baseline that only reads the same file as UTF-8 text line by line (the floor any ingestion pays).
/// </summary>
[MemoryDiagnoser]
public class IngestionBenchmarks
{
    private string _path = "";
    private string _output = "";
    private DatasetIngestor _ingestor = null!;

    [Params(100)]
    public int Megabytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _path = ScaledData.Taxi(Megabytes * 1024L * 1024);
        _output = Path.Combine(Path.GetTempPath(), "bench-canonical.csv");
        _ingestor = Ingest.CreateIngestor();
    }

    [Benchmark(Baseline = true)]
    public long ReadLines()
    {
        long chars = 0;
        using var reader = new StreamReader(_path);
        while (reader.ReadLine() is { } line) chars += line.Length;
        return chars;
    }

    [Benchmark]
    public long IngestValidateProfile() =>
        _ingestor.ProcessFile(_path, new ModelSpec { Label = "fare_amount" }, null, _output, CancellationToken.None).Rows;
}

/// <summary>The ingestion command: throughput and peak memory on one scaled file, in a fresh process.</summary>
public static class Ingest
{
    public static DatasetIngestor CreateIngestor() =>
        new(null!, null!, null!, null!, Options.Create(new IngestionOptions()), NullLogger<DatasetIngestor>.Instance);

    public static int Run(int megabytes)
    {
        var path = ScaledData.Taxi(megabytes * 1024L * 1024);
        var bytes = new FileInfo(path).Length;
        var output = Path.Combine(Path.GetTempPath(), $"ingest-canonical-{Environment.ProcessId}.csv");
        var ingestor = CreateIngestor();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = ingestor.ProcessFile(path, new ModelSpec { Label = "fare_amount" }, null, output, CancellationToken.None);
        clock.Stop();
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        File.Delete(output);
        Console.WriteLine($"ingest {bytes / 1048576.0:F0} MB, {result.Rows:N0} rows: {clock.Elapsed.TotalSeconds:F1} s, " +
                          $"{bytes / 1048576.0 / clock.Elapsed.TotalSeconds:F1} MB/s, peak working set {process.PeakWorkingSet64 / 1048576.0:F0} MB");
        return 0;
    }
}
