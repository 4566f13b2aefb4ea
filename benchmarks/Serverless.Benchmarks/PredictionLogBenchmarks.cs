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
        _rows = [.. File.ReadLines(Path.Combine(BenchmarkHost.TaxiFolder, "taxi-fare-test.csv")).Skip(1).Take(Entries).Select(l => l.Split(',')).Select(f =>
            System.Text.Encoding.UTF8.GetBytes($$"""{"vendor_id":"{{f[0]}}","rate_code":{{f[1]}},"passenger_count":{{f[2]}},"trip_time_in_secs":{{f[3]}},"trip_distance":{{f[4]}},"payment_type":"{{f[5]}}"}"""))];
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

    private void EncodeAll()
    {
        var time = DateTimeOffset.UtcNow;
        for (var i = 0; i < _rows.Length; i++)
        {
            PredictionLogEncoder.WriteLine(_json, _buffer, RequestId.New(), 0, time, "v1", _rows[i], _sensitive, _output, null, null);
        }
    }
}
