using System.Diagnostics;
using BenchmarkDotNet.Attributes;
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
    private DatasetFileProcessor _processor = null!;

    [Params(100)]
    public int Megabytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _path = ScaledData.Taxi(Megabytes * 1024L * 1024);
        _output = Path.Combine(Path.GetTempPath(), "bench-canonical.csv");
        _processor = Ingest.CreateProcessor();
    }

    [Benchmark(Baseline = true)]
    public long ReadLines() => Ingest.ReadLines(_path);

    [Benchmark]
    public long IngestValidateProfile() =>
        _processor.Process(_path, new ModelSpec { Label = "fare_amount" }, null, _output, CancellationToken.None).Rows;
}

/// <summary>
/// The ingestion command: one scaled file ingested on one thread in a fresh process (throughput, CPU time, peak working
/// set), then the baseline read pass over the same file in the same process, for the ratio between the two.
/// </summary>
public static class Ingest
{
    /// <summary>The file processor of ingestion without storage: the benchmark neither appends nor uploads.</summary>
    internal static DatasetFileProcessor CreateProcessor() => new(new IngestionOptions(), null!);

    /// <summary>The baseline: the file read as UTF-8 text, line by line.</summary>
    public static long ReadLines(string path)
    {
        long chars = 0;
        using var reader = new StreamReader(path);
        while (reader.ReadLine() is { } line) chars += line.Length;
        return chars;
    }

    public static int Run(int megabytes)
    {
        var path = ScaledData.Taxi(megabytes * 1024L * 1024);
        var megabytesRead = new FileInfo(path).Length / 1048576.0;
        var output = Path.Combine(Path.GetTempPath(), $"ingest-canonical-{Environment.ProcessId}.csv");
        var processor = CreateProcessor();
        using var process = Process.GetCurrentProcess();

        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var result = processor.Process(path, new ModelSpec { Label = "fare_amount" }, null, output, CancellationToken.None);
        clock.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var peak = process.PeakWorkingSet64 / 1048576.0;
        File.Delete(output);

        var baselineClock = Stopwatch.StartNew();
        ReadLines(path);
        baselineClock.Stop();

        var ingestRate = megabytesRead / clock.Elapsed.TotalSeconds;
        var baselineRate = megabytesRead / baselineClock.Elapsed.TotalSeconds;
        Console.WriteLine($"ingest {megabytesRead:F0} MB, {result.Rows:N0} rows: {clock.Elapsed.TotalSeconds:F1} s, {ingestRate:F1} MB/s " +
                          $"({cpu.TotalSeconds:F1} s CPU, {megabytesRead / cpu.TotalSeconds:F1} MB per CPU-second), peak working set {peak:F0} MB");
        Console.WriteLine($"baseline (read lines) {baselineClock.Elapsed.TotalSeconds:F1} s, {baselineRate:F1} MB/s; ingest / baseline = {ingestRate / baselineRate:F2}");
        return 0;
    }
}
