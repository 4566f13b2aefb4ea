using Azure;
using Serverless.Core.Storage;

namespace Serverless.Core.Specs;

/// <summary>
/// The accepted spec of each model and its history, kept outside the drop zone: <c>models/{model}/spec/current.json</c>
/// (the spec in force, changed only under its ETag) and <c>models/{model}/spec/history/{n}.json</c> (every accepted
/// version, written once). Only specs that passed <see cref="ModelSpecValidation"/> are stored; a rejected spec leaves the
/// one in force alone. <c>incoming/{model}/model.json</c> is where users drop a spec, not where it is read from.
/// </summary>
public sealed class ModelSpecStore(PipelineStorage storage)
{
    /// <summary>The name of a spec dropped into <c>incoming/{model}/</c>.</summary>
    public const string FileName = "model.json";

    private const int MaxConcurrencyRetries = 20;

    /// <summary>Where a spec is dropped: <c>incoming/{model}/model.json</c>.</summary>
    public static string BlobName(string model) => $"{model}/{FileName}";

    /// <summary>The spec in force, within its model's folder.</summary>
    private const string CurrentFile = "spec/current.json";

    public static string CurrentBlob(string model) => $"{model}/{CurrentFile}";
    public static string HistoryBlob(string model, int version) => $"{model}/spec/history/{version:D6}.json";

    /// <summary>Raised on this host after a model's spec in force changed (its name): what this host keeps of a spec is read again.</summary>
    public event Action<string>? Changed;

    /// <summary>Names of every model with a spec in force.</summary>
    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        return await ModelFolders.ListAsync(storage.Models, CurrentFile, ct).ConfigureAwait(false);
    }

    /// <summary>The spec in force, or an empty one (everything inferred) when the model has none.</summary>
    public async Task<ModelSpec> GetAsync(string model, CancellationToken ct) =>
        (await GetCurrentAsync(model, ct).ConfigureAwait(false))?.Spec ?? new ModelSpec();

    /// <summary>The spec version in force, or null when none was ever accepted.</summary>
    public async Task<SpecVersion?> GetCurrentAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        return (await JsonBlobs.TryReadAsync<SpecVersion>(storage.Models.GetBlobClient(CurrentBlob(model)), ct).ConfigureAwait(false))?.Value;
    }

    /// <summary>Every accepted version, oldest first.</summary>
    public async Task<IReadOnlyList<SpecVersion>> HistoryAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var versions = new List<SpecVersion>();
        await foreach (var item in storage.Models.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{model}/spec/history/", ct).ConfigureAwait(false))
        {
            if ((await JsonBlobs.TryReadAsync<SpecVersion>(storage.Models.GetBlobClient(item.Name), ct).ConfigureAwait(false))?.Value is { } version) versions.Add(version);
        }
        if (await GetCurrentAsync(model, ct).ConfigureAwait(false) is { } current && versions.All(v => v.Version != current.Version))
        {
            await JsonBlobs.WriteAsync(storage.Models.GetBlobClient(HistoryBlob(model, current.Version)), current, ct).ConfigureAwait(false);
            versions.Add(current);
        }
        return [.. versions.OrderBy(v => v.Version)];
    }

    /// <summary>
    /// Makes a checked spec the one in force as the next version, unless it equals the one in force (then that one is
    /// returned and nothing is written). Callers validate first: this stores what it is given.
    /// </summary>
    public async Task<(SpecVersion Version, bool Changed)> SetAsync(string model, ModelSpec spec, string by, string source, string? reason, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var current = storage.Models.GetBlobClient(CurrentBlob(model));
        var sha = SpecVersion.Hash(spec);
        for (var attempt = 0; ; attempt++)
        {
            var read = await JsonBlobs.TryReadAsync<SpecVersion>(current, ct).ConfigureAwait(false);
            if (read is { } r && r.Value.Sha256 == sha) return (r.Value, false);
            var next = new SpecVersion
            {
                Version = (read?.Value.Version ?? 0) + 1, Spec = spec, Sha256 = sha, SetAt = DateTimeOffset.UtcNow, By = by, Source = source, Reason = reason,
            };
            try
            {
                // The pointer is the commit point (under its ETag, so two writers never take one number); the history copy
                // follows, and a crash between the two is repaired by the next read of the history.
                if (read is { } existing) await JsonBlobs.WriteAsync(current, next, ct, ifMatch: existing.ETag).ConfigureAwait(false);
                else await JsonBlobs.WriteAsync(current, next, ct, createOnly: true).ConfigureAwait(false);
                await JsonBlobs.WriteAsync(storage.Models.GetBlobClient(HistoryBlob(model, next.Version)), next, ct).ConfigureAwait(false);
                Changed?.Invoke(model);
                return (next, true);
            }
            catch (RequestFailedException e) when (JsonBlobs.IsConcurrencyConflict(e) && attempt < MaxConcurrencyRetries)
            {
                await Task.Delay(Random.Shared.Next(5, 50), ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stores a spec set by a program rather than a person (tests, tools): by <c>api</c>, from <c>api</c>.</summary>
    public Task<(SpecVersion Version, bool Changed)> SetAsync(string model, ModelSpec spec, CancellationToken ct) =>
        SetAsync(model, spec, "api", "api", null, ct);
}
