using System.Buffers;
using System.Text;
using System.Text.Json;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;
using Serverless.Core.Serving;

namespace Serverless.Tests.Monitoring;

/// <summary>
/// The drift check's sample of the prediction log, drawn while reading: the same rows, and the same count of rows in
/// range, as parsing every line whole and offering each entry, while the rows it turns away are never parsed whole.
/// </summary>
public sealed class PredictionLogSampleTests
{
    private static readonly DateTimeOffset From = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddHours(1);

    /// <summary>
    /// Encoded entries, a tenth before or after the range, with lines the head reader cannot take among them (fields in
    /// another order, a request id longer than it reads, a torn line, a line that is no object).
    /// </summary>
    private static byte[] Log(int entries)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, PredictionLogEncoder.WriterOptions);
        for (var i = 0; i < entries; i++)
        {
            var row = Encoding.UTF8.GetBytes($$"""{"trip_distance":{{i / 10.0}},"payment_type":{{(i % 4 == 0 ? "null" : i % 4 == 1 ? "\"CRD\"" : i % 4 == 2 ? "true" : "{}")}}}""");
            var time = i % 10 == 3 ? From.AddMinutes(-1) : i % 10 == 7 ? To : From.AddSeconds(i % 3600);
            var id = i % 500 == 11 ? new string('x', 300) + i : $"req-{i / 3}";
            PredictionLogEncoder.WriteLine(writer, buffer, id, i % 3, time, i % 5 == 0 ? "v2" : "v1", row, new HashSet<string>(), new RowPrediction { Score = i }, null, null);
        }
        var text = new StringBuilder(Encoding.UTF8.GetString(buffer.WrittenSpan));
        text.Append($$"""{"modelVersion":"v1","output":{"score":1},"inputs":{"a":1},"time":"{{From.AddMinutes(5):O}}","row":0,"requestId":"reordered"}""").Append('\n');
        text.Append("[1,2,3]\n");
        text.Append("""{"requestId":"torn","row":0,"ti""");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static async Task<DeterministicSample<PredictionLogEntry>> ReadWholeAsync(byte[] log, int capacity)
    {
        var sample = new DeterministicSample<PredictionLogEntry>(capacity);
        await foreach (var entry in JsonLinesFile.ReadAsync<PredictionLogEntry>(new MemoryStream(log)))
        {
            if (entry.Time >= From && entry.Time < To) sample.Offer(PredictionLogReader.SampleHash(entry.RequestId, entry.Row), entry);
        }
        return sample;
    }

    private static readonly string[] Fields = ["trip_distance", "payment_type", "not_logged"];

    private static async Task<(long Logged, LoggedColumns Columns, int Kept)> ReadSampledAsync(byte[] log, int capacity)
    {
        var sample = new DeterministicSample<byte[]>(capacity);
        await JsonLinesFile.ForEachLineAsync(new MemoryStream(log), PredictionLogReader.SampleLine(From, To, sample));
        return (sample.Offered, LoggedColumns.Read(sample.Items(), Fields), sample.Items().Count);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(5_000)]
    [InlineData(100_000)]
    public async Task SampleLine_KeepsWhatOfferingEveryEntryKeeps_ReadAsColumns(int capacity)
    {
        var log = Log(30_000);

        var whole = await ReadWholeAsync(log, capacity);
        var (logged, columns, kept) = await ReadSampledAsync(log, capacity);

        Assert.Equal(24_001, whole.Offered); // eight in ten in range, and the reordered line
        Assert.Equal(whole.Offered, logged);
        Assert.Equal(Math.Min(capacity, whole.Offered), kept);
        var entries = whole.Items();
        Assert.Equal(entries.Count, columns.Count);
        Assert.Equal(entries.Select(e => e.ModelVersion), columns.Versions);
        Assert.Equal(entries.Select(e => e.Output.Score), columns.Scores);
        Assert.Equal(entries.Select(e => e.Output.Label), columns.Labels);
        foreach (var field in Fields)
        {
            Assert.Equal(entries.Select(e => e.Inputs.TryGetValue(field, out var v) ? CellValues.TextOf(v) : null), columns.Of(field));
        }
        Assert.Contains(columns.Of("payment_type"), v => v == "CRD");
        Assert.Contains(columns.Of("payment_type"), v => v == "true");
        Assert.All(columns.Of("not_logged"), v => Assert.Null(v));
    }

    [Fact]
    public void TryReadHead_ReadsTheIdRowAndTime_OfAnEncodedLine()
    {
        var time = new DateTimeOffset(2026, 11, 26, 6, 1, 2, 345, TimeSpan.Zero);
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, PredictionLogEncoder.WriterOptions);
        PredictionLogEncoder.WriteLine(writer, buffer, "caf\u00e9-\"1\"", 4, time, "v2", """{"a":1}"""u8, new HashSet<string>(), new RowPrediction { Score = 1 }, null, null);
        Span<char> id = stackalloc char[64];

        Assert.True(PredictionLogReader.TryReadHead(buffer.WrittenSpan, id, out var length, out var row, out var read));

        Assert.Equal("caf\u00e9-\"1\"", id[..length].ToString());
        Assert.Equal(4, row);
        Assert.Equal(time, read);
        Assert.False(PredictionLogReader.TryReadHead("""{"requestId":"a","row":"1","time":"2026-11-26T06:01:02Z"}"""u8, id, out _, out _, out _));
        Assert.False(PredictionLogReader.TryReadHead("""{"requestId":"a","row":1}"""u8, id, out _, out _, out _));
        Assert.False(PredictionLogReader.TryReadHead("""{"requestId":"a","row":1,"ti"""u8, id, out _, out _, out _));
    }
}
