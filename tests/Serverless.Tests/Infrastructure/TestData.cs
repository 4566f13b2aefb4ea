namespace Serverless.Tests.Infrastructure;

/// <summary>Slices of the shared data sets for tests.</summary>
public static class TestData
{
    /// <summary>The UTF-8 bytes of <paramref name="text"/> as one gzip member.</summary>
    public static byte[] Gzip(string text) => Gzip(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary><paramref name="bytes"/> as one gzip member.</summary>
    public static byte[] Gzip(byte[] bytes)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(bytes);
        }
        return compressed.ToArray();
    }

    /// <summary>The header and the first <paramref name="rows"/> rows of the taxi training file.</summary>
    public static string TaxiSlice(int rows) =>
        string.Join('\n', File.ReadLines(RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv")).Take(rows + 1)) + "\n";

    public const string TaxiRow =
        """{"vendor_id":"CMT","rate_code":1,"passenger_count":1,"trip_time_in_secs":1271,"trip_distance":3.8,"payment_type":"CRD"}""";
}
