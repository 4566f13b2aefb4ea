using System.Buffers;
using System.IO.Compression;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Serverless.Core.Monitoring;
using Serverless.Core.Serving;

namespace Serverless.Benchmarks;

/// <summary>
/// The prediction log writer's work per entry, off the request path: encoding a taxi row's line (from the request's
/// bytes) and, when the log is compressed, gzip of a block of such lines, against copying the row's bytes (what the
/// request path itself pays) as the baseline.
/// </summary>
[MemoryDiagnoser]
public class PredictionLogBenchmarks
{
    private const int Entries = 1000;
    private byte[][] _rows = null!;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private readonly MemoryStream _compressed = new();
    private Utf8JsonWriter _json = null!;
    private readonly HashSet<string> _sensitive = [];
    private readonly RowPrediction _output = new() { Score = 12.5f };

    [GlobalSetup]
    public void Setup()
    {
        _rows = TaxiRequestRows(Entries);
        _json = new Utf8JsonWriter(_buffer, PredictionLogEncoder.WriterOptions);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Entries)]
    public int CopyRows()
    {
        var total = 0;
        foreach (var row in _rows) total += row.AsSpan().ToArray().Length;
        return total;
    }

    [Benchmark(OperationsPerInvoke = Entries)]
    public int Encode()
    {
        _buffer.ResetWrittenCount();
        EncodeAll();
        return _buffer.WrittenCount;
    }

    [Benchmark(OperationsPerInvoke = Entries)]
    public long EncodeAndGzip()
    {
        _buffer.ResetWrittenCount();
        EncodeAll();
        _compressed.SetLength(0);
        using (var gzip = new GZipStream(_compressed, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(_buffer.WrittenSpan);
        return _compressed.Length;
    }

    /// <summary>The first <paramref name="count"/> rows of the taxi test file as predict's request rows (UTF-8 JSON objects).</summary>
    internal static byte[][] TaxiRequestRows(int count) =>
        [.. File.ReadLines(Path.Combine(BenchmarkHost.TaxiFolder, "taxi-fare-test.csv")).Skip(1).Take(count).Select(l => l.Split(',')).Select(f =>
            System.Text.Encoding.UTF8.GetBytes($$"""{"vendor_id":"{{f[0]}}","rate_code":{{f[1]}},"passenger_count":{{f[2]}},"trip_time_in_secs":{{f[3]}},"trip_distance":{{f[4]}},"payment_type":"{{f[5]}}"}"""))];

    private void EncodeAll()
    {
        var time = DateTimeOffset.UtcNow;
        for (var i = 0; i < _rows.Length; i++)
        {
            PredictionLogEncoder.WriteLine(_json, _buffer, RequestId.New(), 0, time, "v1", _rows[i], _sensitive, _output, null, null);
        }
    }
}

/// <summary>
/// A drift check's read of the prediction log: one window's entries (taxi rows, stored as the writer stores them, gzip
/// members) drawn into the check's sample of <see cref="DriftSettings.DefaultMaxRows"/> rows, with every line parsed
/// whole and offered (the baseline) against <see cref="PredictionLogReader.SampleAsync"/>'s way: each line's first
/// fields read, the lines the sample admits kept as bytes, and only those it keeps at the end read, into the columns a
/// drift check compares (<see cref="LoggedColumns"/>).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class DriftSampleBenchmarks
{
    private static readonly DateTimeOffset From = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
    private byte[] _stored = null!;
    private string[] _fields = null!;

    [Params(1_000_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rows = PredictionLogBenchmarks.TaxiRequestRows(1000);
        // The fields a drift check of the taxi model compares: every column of the file but the label (the last).
        _fields = File.ReadLines(Path.Combine(BenchmarkHost.TaxiFolder, "taxi-fare-test.csv")).First().Split(',')[..^1];
        var lines = new ArrayBufferWriter<byte>(1 << 20);
        using var json = new Utf8JsonWriter(lines, PredictionLogEncoder.WriterOptions);
        var stored = new MemoryStream();
        for (var i = 0; i < Entries; i++)
        {
            PredictionLogEncoder.WriteLine(json, lines, RequestId.New(), 0, From.AddTicks(i * 10_000L), "v1", rows[i % rows.Length], new HashSet<string>(),
                new RowPrediction { Score = i % 50 }, null, null);
            if (lines.WrittenCount < 256 << 10 && i < Entries - 1) continue;
            using (var gzip = new GZipStream(stored, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(lines.WrittenSpan);
            lines.ResetWrittenCount();
        }
        _stored = stored.ToArray();
    }

    private Stream Open() => new GZipStream(new MemoryStream(_stored), CompressionMode.Decompress);

    [Benchmark(Baseline = true)]
    public async Task<long> ParseEveryLine()
    {
        var sample = new DeterministicSample<PredictionLogEntry>(DriftSettings.DefaultMaxRows);
        await foreach (var entry in JsonLinesFile.ReadAsync<PredictionLogEntry>(Open()))
        {
            sample.Offer(PredictionLogReader.SampleHash(entry.RequestId, entry.Row), entry);
        }
        return sample.Offered;
    }

    [Benchmark]
    public async Task<long> ParseWhatTheSampleKeeps()
    {
        var sample = new DeterministicSample<byte[]>(DriftSettings.DefaultMaxRows);
        await JsonLinesFile.ForEachLineAsync(Open(), PredictionLogReader.SampleLine(From, From.AddDays(1), sample));
        return sample.Offered + LoggedColumns.Read(sample.Items(), _fields).Count;
    }
}
