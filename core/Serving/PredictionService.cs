using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Hosting;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Core.Tracking;

namespace Serverless.Core.Serving;

/// <summary>
/// Serves predictions. Versions are loaded once, only after their bytes match the sha256 of their manifest, and kept:
/// each alias that has been asked for (production by default) is re-read every <see cref="PredictionOptions.RefreshInterval"/>
/// and a new version is loaded in the background and swapped in atomically, so requests in flight finish on the version
/// they started with and no request waits for a load after the first. A version that fails its integrity check is never
/// loaded, is audited, and the alias keeps being served by the last verified version this host holds; with none, the
/// request is answered 503. Scoring uses pooled row scorers of the loaded version (see <see cref="LoadedModel"/>).
/// </summary>
public sealed class PredictionService(ModelRegistry registry, ModelIntegrity integrity, PredictionLogBuffer log, DatasetStore datasets, ModelPresence presence,
    IOptions<PredictionOptions> options, ILogger<PredictionService> logger)
{
    private readonly PredictionOptions _options = options.Value;
    private readonly ConcurrentDictionary<(string Model, string Alias), AliasSlot> _aliases = new();
    private readonly ConcurrentDictionary<(string Model, string Version), PinnedSlot> _pinned = new();
    private readonly ConcurrentDictionary<(string Model, string Version), IntegrityFailure> _failures = new();

    /// <summary>The version of each model that answers unpinned requests (production), where one is loaded.</summary>
    public IReadOnlyDictionary<string, string> Loaded =>
        _aliases.Where(s => s.Key.Alias == ModelRegistry.Production && s.Value.Current is not null)
            .ToDictionary(s => s.Key.Model, s => s.Value.Current!.Version, StringComparer.Ordinal);

    /// <summary>
    /// The aliases this host cannot serve as the registry names them, because that version failed its integrity check
    /// here: the version named, the one answering instead (null: requests get a 503), and why.
    /// </summary>
    public IReadOnlyList<UnservedAlias> Unserved
    {
        get
        {
            var unserved = new List<UnservedAlias>();
            foreach (var ((model, alias), slot) in _aliases)
            {
                if (slot.Wanted is { } wanted && wanted != slot.Current?.Version && _failures.TryGetValue((model, wanted), out var failure))
                {
                    unserved.Add(new UnservedAlias(model, alias, wanted, slot.Current?.Version, failure.Message));
                }
            }
            return unserved;
        }
    }

    /// <summary>
    /// Predicts for the body's rows (one JSON object, or <c>{"rows": [...]}</c>) with the version <paramref name="selector"/> names.
    /// </summary>
    /// <exception cref="BadRequestException">The body or a row does not fit the model (naming each field and row).</exception>
    /// <exception cref="PayloadTooLargeException">More rows than <see cref="PredictionOptions.MaxRows"/>.</exception>
    /// <exception cref="NotFoundException">No such model, version or alias.</exception>
    /// <exception cref="ConflictException">The model has no production version.</exception>
    /// <exception cref="ModelUnavailableException">The version failed its integrity check and no verified copy is held.</exception>
    public async ValueTask<PredictionResponse> PredictAsync(string model, JsonElement body, ModelSelector selector, string requestId, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var rows = PredictionRequest.Rows(body, _options.MaxRows);
        var loaded = await GetAsync(model, selector, ct).ConfigureAwait(false);
        var outputs = loaded.Predict(rows);
        CheckFinite(outputs);
        // Sampled requests are queued for the prediction log; this never waits on storage.
        await log.OfferAsync(model, loaded.Manifest, selector == ModelSelector.Production, requestId, rows, outputs, ct).ConfigureAwait(false);
        Telemetry.ServingTelemetry.Predicted(loaded, rows.Count, started, requestId);
        return new PredictionResponse(model, loaded.Version, requestId, outputs);
    }

    /// <summary>
    /// A row whose inputs are far outside what the model was trained on (each within the 32-bit range, so accepted: 3e38)
    /// can make a linear score overflow or a classifier's probabilities NaN. Such an answer is not a prediction, and a
    /// logged one would blind the live metrics: a 400 naming the rows, before anything is logged.
    /// </summary>
    internal static void CheckFinite(IReadOnlyList<RowPrediction> outputs)
    {
        Dictionary<string, string[]>? errors = null;
        for (var r = 0; r < outputs.Count; r++)
        {
            if (IsFinite(outputs[r])) continue;
            errors ??= [];
            errors[$"rows[{r}]"] = ["the model's answer is not a finite number: an input is far outside the values it was trained on"];
        }
        if (errors is not null)
        {
            throw new BadRequestException($"The model cannot answer {errors.Count} row(s) with a number ({string.Join(", ", errors.Keys.Take(5))}): " +
                                          "their inputs are so far outside the values it was trained on that its score overflows. Check the rows' values and units.", errors);
        }
    }

    private static bool IsFinite(RowPrediction row)
    {
        if (row.Score is { } score && !float.IsFinite(score)) return false;
        if (row.Probability is { } probability && !float.IsFinite(probability)) return false;
        if (row.Probabilities is null) return true;
        // The scorer builds a Dictionary: its own enumerator, not a boxed one, on the request path.
        var probabilities = row.Probabilities as Dictionary<string, float> ?? new Dictionary<string, float>(row.Probabilities);
        foreach (var p in probabilities.Values)
        {
            if (!float.IsFinite(p)) return false;
        }
        return true;
    }

    /// <summary>
    /// The versions this host holds loaded, each once (a version both aliased and pinned counts once): those the aliases
    /// asked for point at, and at most <see cref="PredictionOptions.MaxPinnedVersions"/> pinned ones. A version swapped
    /// out of every alias and not pinned is no longer held, and goes once its last request ends.
    /// </summary>
    public IReadOnlyList<(string Model, string Version)> HeldVersions =>
        [.. _aliases.Where(s => s.Value.Current is not null).Select(s => (s.Key.Model, s.Value.Current!.Version))
            .Concat(_pinned.Where(p => p.Value.Current is not null).Select(p => (p.Key.Model, p.Value.Current!.Version)))
            .Distinct()];

    /// <summary>
    /// Re-reads the production alias now and loads the version it names, if it changed. A version that fails its
    /// integrity check is audited and not loaded; the one held keeps answering (this does not throw for it).
    /// </summary>
    public async Task RefreshAsync(string model, CancellationToken ct)
    {
        var slot = _aliases.GetOrAdd((model, ModelRegistry.Production), static _ => new AliasSlot());
        await slot.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await RefreshSlotAsync(model, ModelRegistry.Production, slot, ct).ConfigureAwait(false);
        }
        catch (ModelUnavailableException)
        {
            // Recorded and audited where it was found; requests get the verified version held, or a 503.
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    /// <summary>
    /// Drops this host's copies of a version (it was archived): pinned, and behind any alias that held it (the archive
    /// cleared those aliases). The next request for it checks the registry again.
    /// </summary>
    public void Forget(string model, string version)
    {
        _pinned.TryRemove((model, version), out _);
        foreach (var (key, slot) in _aliases)
        {
            if (key.Model == model && slot.Current?.Version == version) slot.Current = null;
        }
    }

    internal ValueTask<LoadedModel> GetAsync(string model, ModelSelector selector, CancellationToken ct)
    {
        if (selector.Version is { } version) return new ValueTask<LoadedModel>(GetPinnedAsync(model, version, ct));
        var alias = selector.Alias ?? ModelRegistry.Production;
        var slot = _aliases.GetOrAdd((model, alias), static _ => new AliasSlot());
        var current = slot.Current;
        if (current is null) return new ValueTask<LoadedModel>(LoadAliasAsync(model, alias, slot, ct));
        // Production alone keeps serving the copy it verified after the stored bytes went bad; any other alias (staging,
        // which shadow scoring reads) answers for the version as a request naming it does: checked again, not from memory.
        if (integrity.HasFailed(model, current.Version) && alias != ModelRegistry.Production) return new ValueTask<LoadedModel>(DropFailedAsync(model, alias, slot, current, ct));
        // Under traffic the alias is re-read in the background every interval, off the request path. After an idle spell
        // the request waits for the read: answering from an alias read long ago could give a version moved away from
        // since, by another host or a training run, when the move was minutes old. It waits a short while only: storage
        // that does not answer must not hold up a request that the version in memory can answer.
        switch (_options.StalenessOf(slot.CheckedAt))
        {
            case Staleness.RefreshFirst:
                return new ValueTask<LoadedModel>(RefreshedAsync(model, alias, slot, current, ct));
            case Staleness.RefreshInBackground when !slot.Refresh.Running:
                slot.Refresh.Start(() => BackgroundRefreshAsync(model, alias, slot));
                break;
        }
        return new ValueTask<LoadedModel>(current);
    }

    private async Task<LoadedModel> LoadAliasAsync(string model, string alias, AliasSlot slot, CancellationToken ct)
    {
        await slot.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (slot.Current is { } loaded) return loaded;
            await RefreshSlotAsync(model, alias, slot, ct).ConfigureAwait(false);
            if (slot.Current is { } now) return now;
        }
        finally
        {
            slot.Gate.Release();
        }
        // Nothing to serve: forget the slot (a name nobody registered must not hold memory) and say why.
        if (slot.Current is null) _aliases.TryRemove(new KeyValuePair<(string, string), AliasSlot>((model, alias), slot));
        throw await NotServableAsync(model, alias, ct).ConfigureAwait(false);
    }

    /// <summary>Lets go of an alias's copy of a version whose stored bytes failed their check since it was loaded, and loads the alias again.</summary>
    private async Task<LoadedModel> DropFailedAsync(string model, string alias, AliasSlot slot, LoadedModel failed, CancellationToken ct)
    {
        await slot.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (ReferenceEquals(slot.Current, failed)) slot.Current = null;
        }
        finally
        {
            slot.Gate.Release();
        }
        logger.LogWarning("{ModelName} {Alias} {ModelVersion} failed its integrity check since it was loaded; its copy is no longer served", model, alias, failed.Version);
        return await LoadAliasAsync(model, alias, slot, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The alias read again before answering (see <see cref="GetAsync"/>), waited for at most
    /// <see cref="PredictionOptions.RefreshWait"/>: a read that fails or takes longer leaves the version held answering,
    /// and one that ends later swaps its version in then.
    /// </summary>
    private async Task<LoadedModel> RefreshedAsync(string model, string alias, AliasSlot slot, LoadedModel held, CancellationToken ct)
    {
        if (await slot.Refresh.WaitAsync(() => BackgroundRefreshAsync(model, alias, slot), _options.RefreshWait, ct).ConfigureAwait(false))
        {
            logger.LogWarning("Re-reading {ModelName} {Alias} takes longer than {RefreshWait}; answering with {ModelVersion} meanwhile", model, alias, _options.RefreshWait, held.Version);
        }
        return slot.Current ?? throw await NotServableAsync(model, alias, ct).ConfigureAwait(false);
    }

    /// <summary>Re-reads an alias off the request path (<see cref="AliasSlot.Refresh"/>); a failure is logged and the version held keeps answering.</summary>
    private async Task BackgroundRefreshAsync(string model, string alias, AliasSlot slot)
    {
        try
        {
            await slot.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                // Read meanwhile by another path (a promotion through this host, a first load).
                if (_options.StalenessOf(slot.CheckedAt) != Staleness.Fresh) await RefreshSlotAsync(model, alias, slot, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                slot.Gate.Release();
            }
        }
        catch (ModelUnavailableException e)
        {
            logger.LogWarning("{ModelName} {Alias} points at {ModelVersion}, which failed its integrity check; still serving {ServedVersion}",
                model, alias, e.Version, slot.Current?.Version);
        }
        catch (Exception e)
        {
            // Tried now: the next read comes after an interval, in the background, so an outage holds up no request.
            slot.CheckedAt = Environment.TickCount64;
            logger.LogWarning(e, "Refresh of {ModelName} {Alias} failed; still serving {ModelVersion}", model, alias, slot.Current?.Version);
        }
    }

    /// <summary>Resolves the alias and, when it names another version, loads that version and swaps it in. Call holding the slot's gate.</summary>
    private async Task RefreshSlotAsync(string model, string alias, AliasSlot slot, CancellationToken ct)
    {
        var version = await registry.ResolveAliasAsync(model, alias, ct).ConfigureAwait(false);
        slot.CheckedAt = Environment.TickCount64;
        slot.Wanted = version;
        if (version is null && slot.Current is { } held)
        {
            // The alias is gone (its version was archived, on this host or another): it answers nothing any more.
            slot.Current = null;
            logger.LogInformation("{ModelName} {Alias} no longer points at a version; {ModelVersion} is no longer served through it", model, alias, held.Version);
            return;
        }
        if (version is null || version == slot.Current?.Version) return;
        // A version that failed its integrity check lately is not fetched again while a verified one is held.
        if (slot.Current is not null && RecentFailure(model, version) is not null) return;
        var next = FindLoaded(model, version) ?? await LoadVersionAsync(model, version, ct).ConfigureAwait(false);
        var previous = slot.Current?.Version;
        slot.Current = next;
        logger.LogInformation("Serving {ModelName} {Alias} {ModelVersion} (was {PreviousVersion})", model, alias, version, previous ?? "none");
    }

    private async Task<LoadedModel> GetPinnedAsync(string model, string version, CancellationToken ct)
    {
        var key = (model, version);
        if (integrity.HasFailed(model, version))
        {
            // Its stored bytes failed a check here since it was loaded: the version named is checked again, not served from memory.
            _pinned.TryRemove(key, out _);
        }
        else if (_pinned.TryGetValue(key, out var held) && held.Current is { } pinned)
        {
            held.LastUsed = Environment.TickCount64;
            // Withdrawn on another host: found at the next check, every refresh interval, off the request path.
            if (_options.StalenessOf(held.CheckedAt) != Staleness.Fresh && held.TryStartCheck())
            {
                _ = Task.Run(() => CheckPinnedAsync(model, version, held), CancellationToken.None);
            }
            return pinned;
        }
        if (await registry.GetAsync(model, ct).ConfigureAwait(false) is { } doc && Withdrawn(doc, version) is { } entry)
        {
            throw new ConflictException($"Version '{version}' of '{model}' is no longer served because {ModelRegistry.NeedsForce(entry)}; " +
                                        $"promote it with \"force\": true to serve it again (mlops promote {model} {version} --force --reason \"...\").");
        }

        var slot = _pinned.GetOrAdd(key, static _ => new PinnedSlot());
        slot.LastUsed = Environment.TickCount64;
        await slot.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (slot.Current is { } current) return current;
            try
            {
                // A version an alias holds is not loaded twice; pinned too, it is checked for archiving as any pinned one.
                slot.Current = FindLoaded(model, version) ?? await LoadVersionAsync(model, version, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _pinned.TryRemove(new KeyValuePair<(string, string), PinnedSlot>(key, slot));
                if (e is NotFoundException) throw await UnknownVersionAsync(model, version, ct).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            slot.Gate.Release();
        }
        EvictPinned();
        return slot.Current;
    }

    /// <summary>The version's entry when it is withdrawn (<see cref="VersionStatus.IsWithdrawn"/>) and no alias points at it, else null.</summary>
    private static VersionEntry? Withdrawn(RegistryDocument doc, string version) =>
        doc.Versions.Find(v => v.Version == version) is { } entry && VersionStatus.IsWithdrawn(entry.Status) && !doc.Aliases.ContainsValue(version) ? entry : null;

    /// <summary>Drops a pinned version that was withdrawn (rejected, expired or archived, and not aliased again) since it was loaded.</summary>
    private async Task CheckPinnedAsync(string model, string version, PinnedSlot slot)
    {
        try
        {
            if (await registry.GetAsync(model, CancellationToken.None).ConfigureAwait(false) is { } doc && Withdrawn(doc, version) is { } entry)
            {
                _pinned.TryRemove(new KeyValuePair<(string, string), PinnedSlot>((model, version), slot));
                logger.LogInformation("{ModelName} {ModelVersion} is {Status}; no longer served pinned", model, version, entry.Status);
            }
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not check whether pinned {ModelName} {ModelVersion} was withdrawn; still serving it", model, version);
        }
        finally
        {
            slot.EndCheck();
        }
    }

    /// <summary>Drops the least recently used pinned versions beyond <see cref="PredictionOptions.MaxPinnedVersions"/>.</summary>
    private void EvictPinned()
    {
        while (_pinned.Count > Math.Max(0, _options.MaxPinnedVersions))
        {
            var oldest = _pinned.Where(p => p.Value.Current is not null).OrderBy(p => p.Value.LastUsed).FirstOrDefault();
            if (oldest.Value is null || !_pinned.TryRemove(oldest)) return;
        }
    }

    /// <summary>
    /// A version this host already holds (for another alias or pinned), so it is not loaded twice; none once its stored
    /// bytes failed their check since (<see cref="ModelIntegrity.HasFailed"/>): the copy held is not handed on.
    /// </summary>
    private LoadedModel? FindLoaded(string model, string version)
    {
        if (integrity.HasFailed(model, version)) return null;
        foreach (var (key, slot) in _aliases)
        {
            if (key.Model == model && slot.Current is { } current && current.Version == version) return current;
        }
        return _pinned.TryGetValue((model, version), out var pinned) ? pinned.Current : null;
    }

    /// <summary>
    /// Downloads a version, checks its sha256 and loads it. An integrity failure is logged, audited and remembered for
    /// <see cref="PredictionOptions.IntegrityRetryInterval"/>, and thrown as <see cref="ModelUnavailableException"/>.
    /// </summary>
    private async Task<LoadedModel> LoadVersionAsync(string model, string version, CancellationToken ct)
    {
        var key = (model, version);
        if (RecentFailure(model, version) is { } failure) throw new ModelUnavailableException(model, version, failure.Message, failure.At + _options.IntegrityRetryInterval - DateTime.UtcNow);
        ModelManifest manifest;
        byte[] bytes;
        try
        {
            (manifest, bytes) = await integrity.LoadAsync(model, version, ServingActor, ct).ConfigureAwait(false);
        }
        catch (ModelUnavailableException e)
        {
            var message = $"{e.Message} This host holds no verified copy of it. {ModelIntegrity.Remedy(model)} " +
                          $"If it is the production version, rolling production back (POST /api/models/{model}/rollback) serves the one before it.";
            _failures[key] = new IntegrityFailure(message, DateTime.UtcNow);
            throw new ModelUnavailableException(model, version, message, _options.IntegrityRetryInterval);
        }
        _failures.TryRemove(key, out _);
        var loaded = LoadedModel.Create(manifest, bytes);
        logger.LogInformation("Loaded {ModelName} {ModelVersion} (sha256 {Sha256} verified)", model, version, manifest.Sha256);
        return loaded;
    }

    /// <summary>Who meets an integrity failure found while loading a version to serve, as the audit names it.</summary>
    public const string ServingActor = "serving";

    /// <summary>The integrity failure of a version found less than <see cref="PredictionOptions.IntegrityRetryInterval"/> ago, if any.</summary>
    private IntegrityFailure? RecentFailure(string model, string version) =>
        _failures.TryGetValue((model, version), out var failure) && DateTime.UtcNow - failure.At < _options.IntegrityRetryInterval ? failure : null;

    /// <summary>Why an alias has nothing to serve: no model (404), no production version (409), or no such alias (404).</summary>
    private async Task<Exception> NotServableAsync(string model, string alias, CancellationToken ct)
    {
        var doc = await registry.GetAsync(model, ct).ConfigureAwait(false);
        if (doc is null) return await NoVersionYetAsync(model, ct).ConfigureAwait(false);
        var versions = doc.Versions.Count == 0 ? "none yet" : string.Join(", ", doc.Versions.Select(v => $"{v.Version} ({v.Status})"));
        if (alias == ModelRegistry.Production)
        {
            return new ConflictException($"Model '{model}' has no production version yet (versions: {versions}). Promote one " +
                                         $"(POST /api/models/{model}/promote with {{\"version\": \"vN\"}}), approve a run waiting for approval, " +
                                         $"or wait for the training run to finish (GET {ApiRoutes.OrchestrationsOf(model)}); or ask for a version with ?version=vN.");
        }
        var aliases = doc.Aliases.Count == 0 ? "none" : string.Join(", ", doc.Aliases.Select(a => $"{a.Key} → {a.Value}"));
        return new NotFoundException($"Model '{model}' has no alias '{alias}' (aliases: {aliases}). Leave the alias out to use production, or ask for a version with ?version=vN.");
    }

    /// <summary>
    /// Why a model with no registered version cannot answer: its data is in and no run has registered a version yet
    /// (409), its uploads were all quarantined (409, each file with its reason), or nothing of it exists (404).
    /// </summary>
    private async Task<Exception> NoVersionYetAsync(string model, CancellationToken ct)
    {
        if (await datasets.GetLatestAsync(model, ct).ConfigureAwait(false) is { } dataset)
        {
            return new ConflictException($"Model '{model}' has no registered version yet: dataset version {dataset.Version} is in, and its training run " +
                                         $"may still be going or may not have passed its gate (GET {ApiRoutes.OrchestrationsOf(model)}, GET {ApiRoutes.RunsOf(model)}).");
        }
        return await presence.WithoutDataAsync(model, ct).ConfigureAwait(false);
    }

    private async Task<Exception> UnknownVersionAsync(string model, string version, CancellationToken ct)
    {
        var doc = await registry.GetAsync(model, ct).ConfigureAwait(false);
        return doc is null
            ? await NoVersionYetAsync(model, ct).ConfigureAwait(false)
            : new NotFoundException($"Model '{model}' has no version '{version}' (versions: {(doc.Versions.Count == 0 ? "none yet" : string.Join(", ", doc.Versions.Select(v => v.Version)))}).");
    }

    private sealed record IntegrityFailure(string Message, DateTime At);

    /// <summary>The version an alias of a model is served by on this host, swapped atomically.</summary>
    private sealed class AliasSlot
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        private LoadedModel? _current;

        public LoadedModel? Current
        {
            get => Volatile.Read(ref _current);
            set => Volatile.Write(ref _current, value);
        }

        /// <summary>When the alias was last read, in <see cref="Environment.TickCount64"/> milliseconds (read on every request: the cheapest clock).</summary>
        public long CheckedAt;

        /// <summary>The version the alias named when it was last read: <see cref="Current"/>, unless that version could not be loaded.</summary>
        public volatile string? Wanted;

        /// <summary>The alias's re-read, one at a time, which requests start or join and wait for at most a short while.</summary>
        public readonly SharedRefresh Refresh = new();
    }

    /// <summary>A version asked for with <c>?version=</c>, loaded once and kept while recently used and not withdrawn (<see cref="VersionStatus.IsWithdrawn"/>).</summary>
    private sealed class PinnedSlot
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        private LoadedModel? _current;
        private int _checking;

        /// <summary>When its registry entry was last checked, in <see cref="Environment.TickCount64"/> milliseconds.</summary>
        public long CheckedAt = Environment.TickCount64;

        public bool TryStartCheck() => Interlocked.CompareExchange(ref _checking, 1, 0) == 0;

        public void EndCheck()
        {
            CheckedAt = Environment.TickCount64;
            Volatile.Write(ref _checking, 0);
        }

        public LoadedModel? Current
        {
            get => Volatile.Read(ref _current);
            set => Volatile.Write(ref _current, value);
        }

        public long LastUsed;
    }
}

/// <summary>An alias whose version failed its integrity check on this host (<see cref="PredictionService.Unserved"/>).</summary>
public sealed record UnservedAlias(string Model, string Alias, string Version, string? ServedInstead, string Reason);
