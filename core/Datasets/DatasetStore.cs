using Azure;
using Azure.Storage.Blobs.Models;
using Serverless.Core.Storage;

namespace Serverless.Core.Datasets;

/// <summary>The pointer to a model's latest dataset version (<c>datasets/{model}/latest.json</c>).</summary>
public sealed record LatestDataset(string Version, DateTimeOffset UpdatedAt);

/// <summary>
/// An upload that held the data of an existing version (<c>datasets/{model}/duplicates/…json</c>): nothing new was written. <see cref="Restored"/>: under policy
/// replace it made that earlier version the latest again.
/// </summary>
public sealed record DuplicateUpload(string Blob, string ETag, DateTimeOffset? UploadedAt, DateTimeOffset RecordedAt, long Bytes, string Sha256, string DatasetVersion, string Message,
    bool? Restored = null);

/// <summary>
/// Dataset versions in the datasets container, written only here: each version's canonical data, profile and manifest,
/// the pointer to the latest version, and the uploads found to duplicate a version. Training, the API and the
/// orchestrations read manifests and profiles here (training keeps its splits of a version's data beside it).
/// </summary>
public sealed class DatasetStore(PipelineStorage storage)
{
    public const string DataFile = "data.csv";
    public const string ProfileFile = "profile.json";
    public const string ManifestFile = "manifest.json";
    private const string DuplicatesFolder = "duplicates";

    public static string Prefix(string model, string version) => $"{model}/{version}/";
    public static string DataBlob(string model, string version) => Prefix(model, version) + DataFile;
    public static string ProfileBlob(string model, string version) => Prefix(model, version) + ProfileFile;
    public static string ManifestBlob(string model, string version) => Prefix(model, version) + ManifestFile;
    public const string LatestFile = "latest.json";
    public static string LatestBlob(string model) => $"{model}/{LatestFile}";

    /// <summary>
    /// The version a canonical data file read with <paramref name="schema"/> is kept as: the content address of both, the
    /// data's SHA-256 and the roles its columns were given (label, task, features, excluded and sensitive columns, column
    /// kinds, classes, time column). The same data under the same schema is the same version (a duplicate); the same data
    /// uploaded again after the spec changed what it is (a column now sensitive) is a new version that can be trained on,
    /// where the old one, ingested under the old spec, no longer can.
    /// </summary>
    public static string VersionOf(string sha256, DatasetSchema schema)
    {
        var roles = System.Text.Json.JsonSerializer.Serialize(new
        {
            schema.Label,
            Task = schema.Task.ToString(),
            schema.Features,
            schema.Excluded,
            schema.Sensitive,
            Columns = schema.Columns.Select(c => $"{c.Name}:{c.Kind}"),
            schema.Classes,
            schema.TimeColumn,
        });
        var address = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sha256 + "\n" + roles));
        return "ds-" + Convert.ToHexStringLower(address)[..16];
    }

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
        return manifest is null ? null : await GetProfileAsync(manifest, ct).ConfigureAwait(false);
    }

    public async Task<DatasetProfile?> GetProfileAsync(DatasetManifest manifest, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var read = await JsonBlobs.TryReadAsync<DatasetProfile>(storage.Datasets.GetBlobClient(manifest.ProfileBlob), ct).ConfigureAwait(false);
        return read?.Value;
    }

    /// <summary>Opens a version's canonical data for reading.</summary>
    public Stream OpenData(DatasetManifest manifest, CancellationToken ct) =>
        storage.Datasets.GetBlobClient(manifest.DataBlob).OpenRead(cancellationToken: ct);

    /// <summary>The models that have a dataset version (a latest pointer).</summary>
    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        return await ModelFolders.ListAsync(storage.Datasets, LatestFile, ct).ConfigureAwait(false);
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
            if (version == DuplicatesFolder) continue;
            if (await GetManifestAsync(model, version, ct).ConfigureAwait(false) is { } manifest) manifests.Add(manifest);
        }
        return [.. manifests.OrderBy(m => m.CreatedAt)];
    }

    /// <summary>
    /// Writes a new dataset version: the canonical data from <paramref name="dataPath"/>, the profile, then the manifest
    /// (create-only: it is what makes the version exist), then the latest pointer. False when another upload wrote the
    /// same version first.
    /// </summary>
    public async Task<bool> WriteVersionAsync(DatasetManifest manifest, string dataPath, DatasetProfile profile, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        await using (var stream = File.OpenRead(dataPath))
        {
            var options = new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } };
            var written = await storage.Datasets.GetBlobClient(manifest.DataBlob).UploadAsync(stream, options, ct).ConfigureAwait(false);
            manifest = manifest with { DataETag = written.Value.ETag.ToString() };
        }
        await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(manifest.ProfileBlob), profile with { Model = manifest.Model, DatasetVersion = manifest.Version }, ct).ConfigureAwait(false);
        try
        {
            await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(ManifestBlob(manifest.Model, manifest.Version)), manifest, ct, createOnly: true).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (JsonBlobs.IsConcurrencyConflict(e))
        {
            return false;
        }
        await SetLatestAsync(manifest.Model, manifest.Version, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Points the model's latest data at an existing version (a new one, or an earlier one uploaded again).</summary>
    public async Task SetLatestAsync(string model, string version, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(LatestBlob(model)), new LatestDataset(version, DateTimeOffset.UtcNow), ct).ConfigureAwait(false);
    }

    /// <summary>Records an upload that held the data of an existing version, so the user can see what became of it.</summary>
    public async Task RecordDuplicateAsync(string model, DuplicateUpload duplicate, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var name = $"{model}/{DuplicatesFolder}/{NameParts.Stamp(duplicate.RecordedAt)}-{NameParts.ShortHash(duplicate.Blob + duplicate.ETag)}.json";
        await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(name), duplicate, ct).ConfigureAwait(false);
    }

    /// <summary>The uploads of a model that duplicated a version, newest first.</summary>
    public async Task<IReadOnlyList<DuplicateUpload>> ListDuplicatesAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var duplicates = new List<DuplicateUpload>();
        await foreach (var item in storage.Datasets.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{model}/{DuplicatesFolder}/", ct).ConfigureAwait(false))
        {
            var read = await JsonBlobs.TryReadAsync<DuplicateUpload>(storage.Datasets.GetBlobClient(item.Name), ct).ConfigureAwait(false);
            if (read is { } duplicate) duplicates.Add(duplicate.Value);
        }
        return [.. duplicates.OrderByDescending(d => d.RecordedAt)];
    }
}
