using System.Security.Cryptography;

namespace Serverless.Core.Datasets;

/// <summary>
/// The integrity check of a dataset version's data, made where the data is read for training anyway: the local copy's
/// sha256 against the one its manifest recorded at ingestion.
/// </summary>
public static class DatasetIntegrity
{
    /// <summary>Throws <see cref="InvalidDataException"/> when the copy at <paramref name="path"/> is not the data that was ingested.</summary>
    public static async Task VerifyAsync(string path, DatasetManifest manifest, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false));
        if (!sha.Equals(manifest.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"The data of {manifest.Model}/{manifest.Version} was changed after ingestion: its sha256 is {sha}, the manifest records {manifest.Sha256}. Upload the data again.");
        }
    }
}
