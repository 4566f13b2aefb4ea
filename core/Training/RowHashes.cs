using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Serverless.Core.Training;

/// <summary>
/// A 64-bit fingerprint of each row a model was fit on, kept beside the model (sorted, 8 bytes little-endian per row), so a
/// later model is compared with it only on rows it never saw. A row's fingerprint covers every column by name, in name
/// order, so the same row hashes the same in two dataset versions whatever their column order. SHA-256 truncated to 64
/// bits: a false match needs about 2^32 rows, far beyond a training set, and no extra package is needed.
/// </summary>
public sealed class RowHashes
{
    private readonly ulong[] _sorted;

    private RowHashes(ulong[] sorted) => _sorted = sorted;

    public int Count => _sorted.Length;

    public bool Contains(ulong hash) => Array.BinarySearch(_sorted, hash) >= 0;

    public static RowHashes From(IEnumerable<ulong> hashes)
    {
        var sorted = hashes.ToArray();
        Array.Sort(sorted);
        return new RowHashes(sorted);
    }

    /// <summary>The order in which <see cref="Of"/> reads the fields of rows under <paramref name="header"/>: by column name.</summary>
    public static int[] NameOrder(IReadOnlyList<string> header) =>
        [.. Enumerable.Range(0, header.Count).OrderBy(i => header[i], StringComparer.Ordinal)];

    /// <summary>The fingerprint of one row: its (name, value) pairs in <paramref name="order"/>, missing values as empty.</summary>
    public static ulong Of(IReadOnlyList<string> header, IReadOnlyList<string?> fields, int[] order)
    {
        var text = new StringBuilder();
        foreach (var i in order)
        {
            text.Append(header[i]).Append('\u001f').Append(i < fields.Count ? fields[i] : null).Append('\u001e');
        }
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()), digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }

    public async Task WriteAsync(BlobClient blob, CancellationToken ct)
    {
        var bytes = new byte[_sorted.Length * 8];
        for (var i = 0; i < _sorted.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), _sorted[i]);
        await blob.UploadAsync(BinaryData.FromBytes(bytes), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
        }, ct).ConfigureAwait(false);
    }

    /// <summary>The hashes in a blob written by <see cref="WriteAsync"/>, or null when it does not exist.</summary>
    public static async Task<RowHashes?> TryReadAsync(BlobClient blob, CancellationToken ct)
    {
        try
        {
            var bytes = (await blob.DownloadContentAsync(ct).ConfigureAwait(false)).Value.Content.ToMemory();
            var hashes = new ulong[bytes.Length / 8];
            for (var i = 0; i < hashes.Length; i++) hashes[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes.Span.Slice(i * 8, 8));
            return new RowHashes(hashes);
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
        {
            return null;
        }
    }
}
