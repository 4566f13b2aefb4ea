using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Serverless.Core.Datasets;

/// <summary>Brings an upload to local disk: exactly the blob version an ETag names, hashed on the way, and gzip decompressed within a bound.</summary>
internal static class UploadFiles
{
    /// <summary>Downloads exactly the version of the blob that <paramref name="etag"/> names; null when it is gone or has changed.</summary>
    public static async Task<(string Sha256, long Bytes)?> DownloadAsync(BlobClient blob, ETag etag, string path, CancellationToken ct)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes;
        await using (var file = File.Create(path))
        await using (var hashing = new HashingStream(file, sha))
        {
            try
            {
                await blob.DownloadToAsync(hashing, new BlobDownloadToOptions { Conditions = new BlobRequestConditions { IfMatch = etag } }, ct).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 412 || e.ErrorCode == BlobErrorCode.BlobNotFound)
            {
                return null;
            }
            bytes = file.Length;
        }
        return (Convert.ToHexStringLower(sha.GetHashAndReset()), bytes);
    }

    /// <summary>The two bytes every gzip member starts with (RFC 1952).</summary>
    internal static ReadOnlySpan<byte> GzipMagic => [0x1F, 0x8B];

    /// <summary>
    /// Decompresses a gzip file to <paramref name="output"/>; a file that is not gzip, that ends before its last member's
    /// trailer, that decompresses to more than <paramref name="limit"/> bytes, or to gzip again, is a <see cref="Rejection"/>.
    /// </summary>
    public static async Task DecompressAsync(string input, string output, long limit, CancellationToken ct)
    {
        var crc = new Crc32();
        long written = 0;
        try
        {
            await using var source = new GZipStream(File.OpenRead(input), CompressionMode.Decompress);
            await using var target = File.Create(output);
            var buffer = new byte[1 << 20];
            int read;
            while ((read = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                written += read;
                if (written > limit)
                {
                    throw new Rejection(ReasonCodes.DecompressedTooLarge,
                        $"The file decompresses to more than {limit:N0} bytes (Pipeline:Ingestion:MaxDecompressedBytes); split it into smaller files or raise the limit.");
                }
                crc.Append(buffer.AsSpan(0, read));
                await target.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
        }
        catch (InvalidDataException)
        {
            throw new Rejection(ReasonCodes.InvalidGzip,
                "The file's name ends in .gz but its bytes are not gzip (they do not start with gzip's header, or a compressed block is damaged). " +
                "Compress it again with gzip, or upload it without the .gz ending if it is plain text.");
        }
        if (!await EndsWithItsTrailerAsync(input, output, written, crc, ct).ConfigureAwait(false))
        {
            throw new Rejection(ReasonCodes.TruncatedGzip,
                $"The gzip file ends before its end: the {written:N0} bytes it gave do not match the length and CRC-32 its last 8 bytes should record, " +
                "so part of it is missing (an upload cut short?). Nothing of it was kept as data; upload the whole file again.");
        }
        if (await StartsWithGzipMagicAsync(output, ct).ConfigureAwait(false))
        {
            // Text never starts so (0x8B cannot follow 0x1F in UTF-8): the file was compressed twice.
            throw new Rejection(ReasonCodes.BinaryContent,
                "The file is compressed twice: decompressed once, its bytes are gzip again. Decompress it once and upload the result (still named .gz), " +
                "or decompress it twice and upload the text.");
        }
    }

    private static async Task<bool> StartsWithGzipMagicAsync(string path, CancellationToken ct)
    {
        var head = new byte[GzipMagic.Length];
        await using var file = File.OpenRead(path);
        var read = await file.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        return head.AsSpan(0, read).SequenceEqual(GzipMagic);
    }

    /// <summary>
    /// GZipStream stops without a word when the compressed bytes simply run out, so the last member's trailer (CRC-32 and
    /// length mod 2^32 of what it holds, RFC 1952) is checked against the end of the output: the whole output for the usual
    /// one-member file, its last ISIZE bytes when members were concatenated.
    /// </summary>
    private static async Task<bool> EndsWithItsTrailerAsync(string input, string output, long written, Crc32 whole, CancellationToken ct)
    {
        var trailer = new byte[8];
        await using (var compressed = File.OpenRead(input))
        {
            if (compressed.Length < 18) return false;
            compressed.Seek(-8, SeekOrigin.End);
            await compressed.ReadExactlyAsync(trailer, ct).ConfigureAwait(false);
        }
        var expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        var size = (long)BinaryPrimitives.ReadUInt32LittleEndian(trailer.AsSpan(4));
        if (size > written) return false;
        if ((written - size) % (1L << 32) == 0 && whole.GetCurrentHashAsUInt32() == expectedCrc) return true;
        // Several members: the last one's bytes are the output's last ISIZE (mod 2^32) bytes.
        var last = new Crc32();
        await using var decompressed = File.OpenRead(output);
        decompressed.Seek(-size, SeekOrigin.End);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = await decompressed.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0) last.Append(buffer.AsSpan(0, read));
        return last.GetCurrentHashAsUInt32() == expectedCrc;
    }
}
