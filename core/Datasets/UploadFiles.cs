using System.IO.Compression;
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

    /// <summary>
    /// Decompresses a gzip file to <paramref name="output"/>; a file that is not gzip, or that decompresses to more than
    /// <paramref name="limit"/> bytes, is a <see cref="Rejection"/>.
    /// </summary>
    public static async Task DecompressAsync(string input, string output, long limit, CancellationToken ct)
    {
        try
        {
            await using var source = new GZipStream(File.OpenRead(input), CompressionMode.Decompress);
            await using var target = File.Create(output);
            var buffer = new byte[1 << 20];
            long written = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                written += read;
                if (written > limit)
                {
                    throw new Rejection("decompressed_too_large",
                        $"The file decompresses to more than {limit:N0} bytes (Pipeline:Ingestion:MaxDecompressedBytes); split it into smaller files or raise the limit.");
                }
                await target.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
        }
        catch (InvalidDataException e)
        {
            throw new Rejection("invalid_gzip", $"The file ends in .gz but is not valid gzip: {e.Message}");
        }
    }
}
