using Azure.Storage.Blobs.Models;
using Serverless.Core.Storage;

namespace Serverless.Core.Datasets;

/// <summary>The pointer to a model's latest dataset version (<c>datasets/{model}/latest.json</c>).</summary>
public sealed record LatestDataset(string Version, DateTimeOffset UpdatedAt);

/// <summary>Reads dataset versions: manifests, profiles, and the latest version of a model.</summary>
public sealed class DatasetStore(PipelineStorage storage)
{
    public static string Prefix(string model, string version) => $"{model}/{version}/";
    public static string ManifestBlob(string model, string version) => Prefix(model, version) + "manifest.json";
    public static string LatestBlob(string model) => $"{model}/latest.json";

    public async Task<DatasetManifest?> GetManifestAsync(string model, string version, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var read = await JsonBlobs.TryReadAsync<DatasetManifest>(storage.Datasets.GetBlobClient(ManifestBlob(model, version)), ct).ConfigureAwait(false);
        return read?.Value;
    }

    public async Task<DatasetManifest?> GetLatestAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var latest = await JsonBlobs.TryReadAsync<LatestDataset>(storage.Datasets.GetBlobClient(LatestBlob(model)), ct).ConfigureAwait(false);
        return latest is null ? null : await GetManifestAsync(model, latest.Value.Value.Version, ct).ConfigureAwait(false);
    }

    public async Task<DatasetProfile?> GetProfileAsync(string model, string version, CancellationToken ct)
    {
        var manifest = await GetManifestAsync(model, version, ct).ConfigureAwait(false);
        if (manifest is null) return null;
        var read = await JsonBlobs.TryReadAsync<DatasetProfile>(storage.Datasets.GetBlobClient(manifest.ProfileBlob), ct).ConfigureAwait(false);
        return read?.Value;
    }

    /// <summary>The versions of a model, oldest first.</summary>
    public async Task<IReadOnlyList<DatasetManifest>> ListVersionsAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var manifests = new List<DatasetManifest>();
        await foreach (var item in storage.Datasets.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", model + "/", ct).ConfigureAwait(false))
        {
            if (!item.IsPrefix) continue;
            var version = item.Prefix[(model.Length + 1)..].TrimEnd('/');
            if (await GetManifestAsync(model, version, ct).ConfigureAwait(false) is { } manifest) manifests.Add(manifest);
        }
        return [.. manifests.OrderBy(m => m.CreatedAt)];
    }
}
