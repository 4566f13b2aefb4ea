using System.IO.Compression;
using System.Text;
using Serverless.Core.Monitoring;

namespace Serverless.Tests.Monitoring;

/// <summary>JSON-lines blobs read as a stream, a buffer at a time, give the records the whole-blob parse gives.</summary>
public sealed class JsonLinesFileTests
{
    public sealed record Line(int N, string Text);

    /// <summary>
    /// Lines of every length, a few far longer than one read buffer, with foreign, torn and empty lines among them and no
    /// line break after the last.
    /// </summary>
    private static string Lines()
    {
        var text = new StringBuilder();
        for (var n = 0; n < 3000; n++)
        {
            var length = n % 500 == 7 ? JsonLinesFile.ReadBufferBytes * 2 + 13 : n % 97;
            text.Append($"{{\"n\":{n},\"text\":\"{new string((char)('a' + n % 26), length)}\"}}\n");
            if (n % 400 == 3) text.Append("{\"n\":\"not a number\"}\n\r\n   \n{\"n\":1,\"text\":\"torn");
            if (n % 400 == 3) text.Append('\n');
        }
        text.Append("{\"n\":-1,\"text\":\"last, without a line break\"}");
        return text.ToString();
    }

    private static async Task<List<Line>> ReadAllAsync(Stream stream)
    {
        var read = new List<Line>();
        await foreach (var line in JsonLinesFile.ReadAsync<Line>(stream)) read.Add(line);
        return read;
    }

    [Fact]
    public async Task ReadAsync_GivesTheRecordsOfTheWholeBlobParse_AcrossBufferBoundaries()
    {
        var bytes = Encoding.UTF8.GetBytes(Lines());
        Assert.True(bytes.Length > JsonLinesFile.ReadBufferBytes * 4, "the lines span many read buffers");

        var streamed = await ReadAllAsync(new MemoryStream(bytes));

        var whole = JsonLinesFile.Parse<Line>(new BinaryData(bytes));
        Assert.Equal(3001, whole.Count);
        Assert.Equal(whole, streamed);
        Assert.Equal([.. Enumerable.Range(0, 3000), -1], streamed.Select(l => l.N));
        Assert.Equal(JsonLinesFile.ReadBufferBytes * 2 + 13, streamed[7].Text.Length);
    }

    [Fact]
    public async Task ReadAsync_OfGzipMembers_CutShort_GivesTheRecordsBeforeTheCut()
    {
        // Two gzip members one after the other, as the prediction log appends them; the second cut in its middle.
        var first = Gzip("{\"n\":1,\"text\":\"a\"}\n{\"n\":2,\"text\":\"b\"}\n");
        var second = Gzip(string.Concat(Enumerable.Range(3, 2000).Select(n => $"{{\"n\":{n},\"text\":\"{Guid.NewGuid()}\"}}\n")));
        var stored = new MemoryStream([.. first, .. second[..(second.Length / 2)]]);

        var read = await ReadAllAsync(new GZipStream(stored, CompressionMode.Decompress));

        Assert.True(read.Count is > 2 and < 2002, $"{read.Count} records");
        Assert.Equal(Enumerable.Range(1, read.Count), read.Select(l => l.N));
    }

    private static byte[] Gzip(string text)
    {
        using var stored = new MemoryStream();
        using (var gzip = new GZipStream(stored, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return stored.ToArray();
    }
}
