using System.Text.Json;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Serverless.Core.Serving;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Core.Registry;

/// <summary>A name or version the registry does not know.</summary>
public sealed class NotFoundException(string message) : Exception(message);

/// <summary>A request that conflicts with the registry's state (e.g. promoting a rejected version).</summary>
public sealed class ConflictException(string message) : Exception(message);

/// <summary>A rollback's target changed between the caller's check of its bytes and the move (another move came first).</summary>
public sealed class RollbackTargetMovedException(string target) : Exception($"The rollback's target is now {target}.")
{
    public string Target { get; } = target;
}

/// <summary>A move of an alias: the registry after it, where the alias pointed before and after, and why it was forced (null: not forced).</summary>
public sealed record AliasMove(RegistryDocument Document, string? From, string? To, string? ForcedBecause)
{
    /// <summary>Earlier production versions a rollback went past, each with why (archived, rejected or expired since).</summary>
    public IReadOnlyList<string>? Skipped { get; init; }
}

/// <summary>
/// Immutable, versioned models in blob storage: <c>models/{model}/v{N}/</c> holds <c>model.zip</c>, <c>manifest.json</c>
/// and <c>card.md</c>; <c>models/{model}/registry.json</c> holds the aliases and their history and is changed only with
/// ETag concurrency, so two writers never lose each other's update.
/// </summary>
public sealed class ModelRegistry(PipelineStorage storage, ILogger<ModelRegistry> logger)
{
    public const string Production = "production";
    public const string Staging = "staging";

    // Twenty writers racing on one registry each lose at most nineteen rounds; the jittered wait below spreads them out.
    private const int MaxConcurrencyRetries = 50;

    public const string RegistryFile = "registry.json";
    public static string RegistryBlob(string model) => $"{model}/{RegistryFile}";
    public static string VersionPrefix(string model, string version) => $"{model}/{version}/";

    /// <summary>The registry document of a model, or null when the model has no version yet.</summary>
    public async Task<RegistryDocument?> GetAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var read = await JsonBlobs.TryReadAsync<RegistryDocument>(storage.Models.GetBlobClient(RegistryBlob(model)), ct).ConfigureAwait(false);
        return read?.Value;
    }

    /// <summary>Names of every model with a registry.</summary>
    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct)
    {
        await storage.EnsureCreatedAsync(ct).ConfigureAwait(false);
        return await ModelFolders.ListAsync(storage.Models, RegistryFile, ct).ConfigureAwait(false);
    }

    /// <summary>The version's manifest; null when there is none.</summary>
    /// <exception cref="ModelUnavailableException">The stored manifest cannot be read (its bytes were damaged): nothing of the version can be trusted or served.</exception>
    public async Task<ModelManifest?> GetManifestAsync(string model, string version, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var blob = storage.Models.GetBlobClient(VersionPrefix(model, version) + "manifest.json");
        try
        {
            var read = await JsonBlobs.TryReadAsync<ModelManifest>(blob, ct).ConfigureAwait(false);
            return read?.Value;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new ModelUnavailableException(model, version,
                $"The manifest of '{model}' version {version} ({storage.Models.Name}/{blob.Name}) cannot be read, so nothing of that version can be served or trusted: {(e is JsonException json ? Api.JsonText.Reason(json) : e.Message)} {ModelIntegrity.Remedy(model)}");
        }
    }

    public async Task<string?> GetCardAsync(string model, string version, CancellationToken ct)
    {
        try
        {
            var content = await storage.Models.GetBlobClient(VersionPrefix(model, version) + "card.md").DownloadContentAsync(ct).ConfigureAwait(false);
            return content.Value.Content.ToString();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>The version an alias points at, or null.</summary>
    public async Task<string?> ResolveAliasAsync(string model, string alias, CancellationToken ct)
    {
        var registry = await GetAsync(model, ct).ConfigureAwait(false);
        return registry is not null && registry.Aliases.TryGetValue(alias, out var version) ? version : null;
    }

    /// <summary>
    /// Registers a trained model as the next immutable version. Idempotent per <see cref="ModelManifest.RunId"/> and
    /// orchestration: a retried call returns the version the first call registered.
    /// </summary>
    /// <param name="draft">The manifest without version, sha256 and size; those are filled in here.</param>
    /// <param name="sourceModelBlob">The candidate's <c>model.zip</c> in the models container.</param>
    /// <param name="renderCard">Renders the model card from the final manifest.</param>
    public async Task<ModelManifest> RegisterAsync(ModelManifest draft, string sourceModelBlob, Func<ModelManifest, string> renderCard, CancellationToken ct) =>
        (await RegisterOnceAsync(draft, sourceModelBlob, renderCard, ct).ConfigureAwait(false)).Manifest;

    /// <summary>
    /// <see cref="RegisterAsync"/>, saying whether this call made the version: <c>Created</c> is false when the run was
    /// registered already, by an earlier call or by one running at the same time (the registry takes a run once, so two
    /// calls racing make one version; the loser's files are removed and its reserved number stays a gap).
    /// </summary>
    public async Task<(ModelManifest Manifest, bool Created)> RegisterOnceAsync(ModelManifest draft, string sourceModelBlob, Func<ModelManifest, string> renderCard, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var model = draft.Model;

        var existing = await FindByRunAsync(model, draft.OrchestrationId, draft.RunId, ct).ConfigureAwait(false);
        if (existing is not null) return (existing, false);

        // Reserve the version number first: a crash after this leaves a gap, never two models under one number.
        var reserved = await UpdateAsync(model, doc => doc with { LatestVersion = doc.LatestVersion + 1 }, ct).ConfigureAwait(false);
        var version = VersionNames.Format(reserved.LatestVersion);

        var prefix = VersionPrefix(model, version);
        var target = storage.Models.GetBlobClient(prefix + "model.zip");
        var source = storage.Models.GetBlobClient(sourceModelBlob);
        byte[] bytes = (await source.DownloadContentAsync(ct).ConfigureAwait(false)).Value.Content.ToArray();
        await target.UploadAsync(BinaryData.FromBytes(bytes), new BlobUploadOptions
        {
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            HttpHeaders = new BlobHttpHeaders { ContentType = Api.ApiResults.ZipContentType },
        }, ct).ConfigureAwait(false);

        var manifest = draft with
        {
            Version = version,
            ModelBlob = prefix + "model.zip",
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            SizeBytes = bytes.LongLength,
        };
        await JsonBlobs.WriteAsync(storage.Models.GetBlobClient(prefix + "manifest.json"), manifest, ct, createOnly: true).ConfigureAwait(false);
        await storage.Models.GetBlobClient(prefix + "card.md").UploadAsync(BinaryData.FromString(renderCard(manifest)), new BlobUploadOptions
        {
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            HttpHeaders = new BlobHttpHeaders { ContentType = Api.ApiResults.MarkdownContentType },
        }, ct).ConfigureAwait(false);

        string? first = null;
        await UpdateAsync(model, doc =>
        {
            // The run is taken once: a call that got here first (between this call's check above and now) keeps it.
            first = doc.Versions.Find(v => v.RunId == manifest.RunId && v.OrchestrationId == manifest.OrchestrationId)?.Version;
            if (first is not null) return null;
            doc.Versions.Add(new VersionEntry(version, manifest.CreatedAt, manifest.DatasetVersion, manifest.Candidate.ToString(), manifest.PrimaryMetric, manifest.TestMetrics, VersionStatus.Registered, manifest.OrchestrationId, manifest.TestMeasuredOn, manifest.GatePassed,
                manifest.ValidationMetrics, manifest.Selection?.WithoutFolds(), manifest.TestInterval, RunId: manifest.RunId,
                // Who registered it: a person, for a run registered by hand (its note says why), else the training run.
                StatusChanged: manifest.RegisteredBy is { } by
                    ? new StatusChange(by, manifest.CreatedAt, manifest.GateNotes.FirstOrDefault())
                    : new StatusChange(TrainingActor, manifest.CreatedAt, $"registered by {manifest.OrchestrationId}")));
            return doc;
        }, ct).ConfigureAwait(false);
        if (first is not null)
        {
            foreach (var name in new[] { "model.zip", "manifest.json", "card.md" })
            {
                await storage.Models.GetBlobClient(prefix + name).DeleteIfExistsAsync(cancellationToken: ct).ConfigureAwait(false);
            }
            logger.LogInformation("Run {RunId} of {ModelName} was registered as {ModelVersion} meanwhile; {Reserved} is left unused", manifest.RunId, model, first, version);
            return (await GetManifestAsync(model, first, ct).ConfigureAwait(false) ?? throw new NotFoundException($"Model '{model}' has no version '{first}'."), false);
        }

        logger.LogInformation("Registered {ModelName} {ModelVersion} from run {RunId} (sha256 {Sha256})", model, version, manifest.RunId, manifest.Sha256);
        return (manifest, true);
    }

    /// <summary>
    /// A version's card as served: the stored card (written when the version was registered, and never changed) under a
    /// line that says where the version stands now: its status, who set it, when and why, and the aliases that point at
    /// it. Null when there is no such version.
    /// </summary>
    public async Task<string?> GetCardAsServedAsync(string model, string version, CancellationToken ct)
    {
        var card = await GetCardAsync(model, version, ct).ConfigureAwait(false);
        if (card is null) return null;
        var doc = await GetAsync(model, ct).ConfigureAwait(false);
        return doc?.Versions.Find(v => v.Version == version) is { } entry ? NowNote(doc, entry) + card : card;
    }

    private static string NowNote(RegistryDocument doc, VersionEntry entry)
    {
        var held = doc.Aliases.Where(a => a.Value == entry.Version).Select(a => a.Key).Order(StringComparer.Ordinal).ToList();
        var where = held.Count == 0 ? "no alias points at it" : $"it is {string.Join(" and ", held)}";
        var status = entry.StatusChanged is { } change
            ? $"{entry.Status} ({change.At:u}, {Training.ModelCard.InlineText(change.By)}{(string.IsNullOrWhiteSpace(change.Reason) ? "" : ": " + Training.ModelCard.InlineText(change.Reason))})"
            : entry.Status;
        var withdrawn = !VersionStatus.IsWithdrawn(entry.Status) ? ""
            : held.Contains(Production) ? "; it was promoted with force and is served"
            : doc.History.Any(h => h.To == entry.Version) ? "; it is no longer served unless promoted with force" : "; it is not served unless promoted with force";
        return $"> **Now:** {status}{withdrawn}; {where}. The card below is as written when the version was registered.\n\n";
    }

    /// <summary>Verifies a version's <c>model.zip</c> against the sha256 in its manifest and returns its bytes.</summary>
    public async Task<(ModelManifest Manifest, byte[] Bytes)> LoadVerifiedAsync(string model, string version, CancellationToken ct)
    {
        var manifest = await GetManifestAsync(model, version, ct).ConfigureAwait(false)
            ?? throw new NotFoundException($"Model '{model}' has no version '{version}'.");
        var bytes = (await storage.Models.GetBlobClient(manifest.ModelBlob).DownloadContentAsync(ct).ConfigureAwait(false)).Value.Content.ToArray();
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(sha, manifest.Sha256, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Integrity check failed for {model} {version}: model.zip has sha256 {sha}, the manifest says {manifest.Sha256}.");
        }
        return (manifest, bytes);
    }

    /// <summary>Sets the status of a version (approval outcome).</summary>
    /// <remarks>
    /// A version rejected, or whose approval expired, leaves every alias but production that points at it (staging,
    /// typically), with a <see cref="AliasMoves.Withdraw"/> entry in the history: it stops being served and shadow-scored
    /// through them, as an archived version does; promoting it still needs force.
    /// </remarks>
    public Task<RegistryDocument> SetStatusAsync(string model, string version, string status, CancellationToken ct, string by = "pipeline", string? reason = null) =>
        UpdateAsync(model, doc => WithStatus(doc, version, status, by, reason), ct);

    /// <summary>
    /// Decides a version that still waits for approval, as <see cref="SetStatusAsync"/> does; false, and nothing written,
    /// when it no longer waits (its run decided it first).
    /// </summary>
    public async Task<bool> DecidePendingAsync(string model, string version, string status, string by, string? reason, CancellationToken ct)
    {
        var decided = false;
        await UpdateAsync(model, doc =>
        {
            // Run again on a concurrent change: what a first try found is not what the change that lands finds.
            decided = false;
            if (doc.Versions.Find(v => v.Version == version) is not { Status: VersionStatus.PendingApproval }) return null;
            decided = true;
            return WithStatus(doc, version, status, by, reason);
        }, ct).ConfigureAwait(false);
        return decided;
    }

    private static RegistryDocument WithStatus(RegistryDocument doc, string version, string status, string by, string? reason)
    {
        var index = doc.Versions.FindIndex(v => v.Version == version);
        if (index < 0) throw new NotFoundException($"Model '{doc.Model}' has no version '{version}'.");
        doc.Versions[index] = doc.Versions[index] with { Status = status, StatusChanged = new StatusChange(by, DateTimeOffset.UtcNow, reason) };
        if (status is VersionStatus.Rejected or VersionStatus.Expired)
        {
            foreach (var alias in doc.Aliases.Where(a => a.Value == version && a.Key != Production).Select(a => a.Key).ToList())
            {
                doc.Aliases.Remove(alias);
                // The history keeps why, as the version's status does: "v2 rejected: not this week".
                doc.History.Add(new AliasChange(alias, version, null, DateTimeOffset.UtcNow, by, string.IsNullOrEmpty(reason) ? $"{version} {status}" : $"{version} {status}: {reason}", AliasMoves.Withdraw));
            }
        }
        return doc;
    }

    /// <summary>Who stages a training run's version (<see cref="StageAsync"/>), as its status and the alias history name it.</summary>
    public const string TrainingActor = AuditActors.Training;

    /// <summary>How many terminated runs <see cref="RegistryDocument.TerminatedRuns"/> remembers.</summary>
    public const int MaxTerminatedRuns = 100;

    /// <summary>
    /// Gives a version a training run just registered its status (<paramref name="status"/>: pending approval, or approved
    /// when the spec asks for none) and puts it on staging, in one change. Null when it did; else why not, and nothing is
    /// staged: a person terminated the run meanwhile (<see cref="TerminateRunAsync"/>: the version is rejected instead), or
    /// the version was decided on already (rejected, archived or expired: a version withdrawn is never staged again).
    /// </summary>
    public async Task<string?> StageAsync(string model, string version, string status, string orchestrationId, string reason, CancellationToken ct)
    {
        string? refused = null;
        await UpdateAsync(model, doc =>
        {
            var entry = doc.Versions.Find(v => v.Version == version) ?? throw new NotFoundException($"Model '{model}' has no version '{version}'.");
            if (doc.TerminatedRuns.Contains(orchestrationId))
            {
                refused = TerminatedReason(orchestrationId, null);
                return entry.Status == VersionStatus.Rejected ? null : WithStatus(doc, version, VersionStatus.Rejected, TrainingActor, refused);
            }
            if (entry.Status != VersionStatus.Registered && entry.Status != status)
            {
                refused = $"{version} is {entry.Status} already";
                return null;
            }
            refused = null;
            return MoveAlias(WithStatus(doc, version, status, TrainingActor, reason), Staging, version, TrainingActor, $"registered by {orchestrationId}", AliasMoves.Register, force: false, out _);
        }, ct).ConfigureAwait(false);
        return refused;
    }

    /// <summary>
    /// Stops a training run a person terminated, in the registry: the versions it registered that no one has decided on
    /// yet (waiting for approval, or approved by the spec and not yet in production) are rejected and taken off staging,
    /// and the run is remembered (<see cref="RegistryDocument.TerminatedRuns"/>) so that what it still had under way stages
    /// nothing and promotes nothing. Versions in production, and versions a person decided on, stay as they are.
    /// </summary>
    public async Task<TerminatedRun> TerminateRunAsync(string model, string orchestrationId, string by, string reason, CancellationToken ct)
    {
        var rejected = new List<string>();
        var doc = await UpdateAsync(model, doc =>
        {
            rejected.Clear();
            foreach (var entry in doc.Versions.Where(v => v.OrchestrationId == orchestrationId && doc.Aliases.GetValueOrDefault(Production) != v.Version).ToList())
            {
                var undecided = entry is { Status: VersionStatus.Registered or VersionStatus.PendingApproval } or { Status: VersionStatus.Approved, StatusChanged.By: TrainingActor };
                if (!undecided) continue;
                doc = WithStatus(doc, entry.Version, VersionStatus.Rejected, by, TerminatedReason(orchestrationId, reason));
                rejected.Add(entry.Version);
            }
            var remember = !doc.TerminatedRuns.Contains(orchestrationId);
            if (remember)
            {
                doc.TerminatedRuns.Add(orchestrationId);
                if (doc.TerminatedRuns.Count > MaxTerminatedRuns) doc.TerminatedRuns.RemoveRange(0, doc.TerminatedRuns.Count - MaxTerminatedRuns);
            }
            return rejected.Count > 0 || remember ? doc : null;
        }, ct).ConfigureAwait(false);
        var last = doc.Versions.LastOrDefault(v => v.OrchestrationId == orchestrationId);
        return new TerminatedRun(rejected, last?.Version, last?.Status, last is not null && doc.Aliases.GetValueOrDefault(Production) == last.Version);
    }

    /// <summary>Whether a person terminated the training run (<see cref="TerminateRunAsync"/>): what it still has under way stops.</summary>
    public async Task<bool> IsTerminatedAsync(string model, string orchestrationId, CancellationToken ct) =>
        (await GetAsync(model, ct).ConfigureAwait(false))?.TerminatedRuns.Contains(orchestrationId) == true;

    /// <summary>Forgets a terminated run whose history was purged (its instance id is not given to another run).</summary>
    public async Task ForgetTerminatedRunAsync(string model, string orchestrationId, CancellationToken ct)
    {
        if (await GetAsync(model, ct).ConfigureAwait(false) is null) return;
        await UpdateAsync(model, doc => doc.TerminatedRuns.Remove(orchestrationId) ? doc : null, ct).ConfigureAwait(false);
    }

    private static string TerminatedReason(string orchestrationId, string? reason) =>
        $"its training run {orchestrationId} was terminated before it finished" + (string.IsNullOrWhiteSpace(reason) ? "" : $": {reason}");

    /// <summary>Points an alias at a version and records the move in the history.</summary>
    public Task<RegistryDocument> SetAliasAsync(string model, string alias, string version, string by, string reason, CancellationToken ct) =>
        UpdateAsync(model, doc => MoveAlias(doc, alias, version, by, reason, alias == Production ? AliasMoves.Promote : AliasMoves.Register, force: false, out _), ct);

    /// <summary>
    /// Points <c>production</c> at a version. A version that failed its quality gate, waits for approval, was rejected,
    /// expired or archived moves only with <paramref name="force"/>; the move then records why it was forced.
    /// </summary>
    public async Task<AliasMove> PromoteAsync(string model, string version, string by, string reason, bool force, CancellationToken ct)
    {
        string? from = null, forcedBecause = null;
        var doc = await UpdateAsync(model, doc =>
        {
            doc.Aliases.TryGetValue(Production, out from);
            return MoveAlias(doc, Production, version, by, reason, AliasMoves.Promote, force, out forcedBecause);
        }, ct).ConfigureAwait(false);
        return new AliasMove(doc, from, version, forcedBecause);
    }

    /// <summary>
    /// Points an alias at a version only if it still points at <paramref name="expected"/> (null: not set): the registry's
    /// compare-and-swap, under the same ETag concurrency as every update. Nothing is written when the alias moved, nor when
    /// <paramref name="forRun"/> names the training run promoting and a person terminated it.
    /// </summary>
    public async Task<AliasSwap> CompareAndSetAliasAsync(string model, string alias, string version, string? expected, string by, string reason, CancellationToken ct, string? forRun = null)
    {
        string? current = null;
        var swapped = false;
        var stopped = false;
        await UpdateAsync(model, doc =>
        {
            doc.Aliases.TryGetValue(alias, out current);
            stopped = forRun is not null && doc.TerminatedRuns.Contains(forRun);
            swapped = current == expected && !stopped;
            return swapped ? MoveAlias(doc, alias, version, by, reason, AliasMoves.Promote, force: false, out _) : null;
        }, ct).ConfigureAwait(false);
        return new AliasSwap(swapped, swapped ? version : current, stopped);
    }

    /// <summary>Why a version needs <c>force</c> to become production, or null when it does not.</summary>
    public static string? NeedsForce(VersionEntry entry) => entry switch
    {
        { Status: VersionStatus.PendingApproval } => "it is waiting for approval",
        { Status: VersionStatus.Rejected } => "it was rejected",
        { Status: VersionStatus.Expired } => "its approval expired",
        { Status: VersionStatus.Archived } => "it is archived",
        { GatePassed: false } => "it failed its quality gate, or was registered by hand without one",
        _ => null,
    };

    /// <summary>Points an alias of the document at a version that may carry it, recording the move (none when it is already there).</summary>
    private static RegistryDocument MoveAlias(RegistryDocument doc, string alias, string version, string by, string reason, string action, bool force, out string? forcedBecause)
    {
        forcedBecause = null;
        var entry = doc.Versions.Find(v => v.Version == version)
            ?? throw new NotFoundException($"Model '{doc.Model}' has no version '{version}' (versions: {(doc.Versions.Count == 0 ? "none yet" : string.Join(", ", doc.Versions.Select(v => v.Version)))}).");
        doc.Aliases.TryGetValue(alias, out var from);
        // Already there: nothing moves, so there is nothing to refuse or to force.
        if (from == version) return doc;
        if (alias == Production)
        {
            if (NeedsForce(entry) is { } why)
            {
                if (!force)
                {
                    throw new ConflictException($"Version '{version}' of '{doc.Model}' cannot be promoted because {why}; send \"force\": true with a reason to promote it anyway " +
                                                $"(on the dashboard, tick force in the promote dialog; mlops promote {doc.Model} {version} --force --reason \"...\").");
                }
                forcedBecause = why;
            }
        }
        else if (VersionStatus.IsWithdrawn(entry.Status))
        {
            throw new ConflictException($"Version '{version}' of '{doc.Model}' is {entry.Status} and cannot be given the alias '{alias}'.");
        }
        doc.Aliases[alias] = version;
        doc.History.Add(new AliasChange(alias, from, version, DateTimeOffset.UtcNow, by, reason, action, forcedBecause is not null));
        return doc;
    }

    /// <summary>
    /// The production versions in force, oldest first, replayed from the history: a promotion stacks its version, a
    /// rollback takes the top one off. The last is the current one; rolling back goes to the one under it.
    /// </summary>
    public static IReadOnlyList<string> ProductionStack(RegistryDocument doc)
    {
        var stack = new List<string>();
        foreach (var change in doc.History.Where(h => h.Alias == Production))
        {
            if (AliasMoves.Of(change) == AliasMoves.Rollback)
            {
                // The rollback took off what was on top, and any versions it skipped, down to where it went.
                var index = change.To is null ? -1 : stack.LastIndexOf(change.To);
                if (index >= 0) stack.RemoveRange(index + 1, stack.Count - index - 1);
                else
                {
                    if (stack.Count > 0) stack.RemoveAt(stack.Count - 1);
                    if (change.To is not null) stack.Add(change.To);
                }
            }
            else if (change.To is not null) stack.Add(change.To);
        }
        return stack;
    }

    /// <summary>
    /// Where a rollback of the document's production goes: the production version before the current one in the history,
    /// skipping versions withdrawn since (<see cref="VersionStatus.IsWithdrawn"/>), each named in <c>Skipped</c> with why.
    /// </summary>
    /// <exception cref="ConflictException">There is no earlier version to go to.</exception>
    public static (string? From, string To, List<string> Skipped) RollbackTarget(RegistryDocument doc)
    {
        var (from, to, skipped) = FindRollbackTarget(doc);
        if (to is not null) return (from, to, skipped);
        throw new ConflictException($"Model '{doc.Model}' has no earlier production version to roll back to{(from is null ? "" : $" from {from}")}" +
                                    (skipped.Count > 0 ? $": {string.Join(", ", skipped)} cannot be served again without \"force\"; promote one with \"force\": true." : "."));
    }

    /// <summary>The <see cref="RollbackTarget"/> of the document, with a null target where there is none.</summary>
    public static (string? From, string? To, List<string> Skipped) FindRollbackTarget(RegistryDocument doc)
    {
        doc.Aliases.TryGetValue(Production, out var from);
        List<string> skipped = [];
        var stack = ProductionStack(doc).ToList();
        if (stack.Count > 0 && stack[^1] == from) stack.RemoveAt(stack.Count - 1);
        foreach (var version in stack.AsEnumerable().Reverse())
        {
            if (version == from) continue;
            var entry = doc.Versions.Find(e => e.Version == version);
            if (entry is not null && !WithdrawnSinceProduction(doc, entry)) return (from, version, skipped);
            skipped.Add(entry is null ? $"{version} (no longer registered)" : $"{version} ({entry.Status.ToString().ToLowerInvariant()} since it was in production)");
        }
        return (from, null, skipped);
    }

    /// <summary>
    /// Whether a version was withdrawn (<see cref="VersionStatus.IsWithdrawn"/>) after it last took production: one
    /// withdrawn before and then forced into production is rolled back to like any other. Without a record of when its
    /// status was set (a registry written before it was kept), a withdrawn version counts as withdrawn since.
    /// </summary>
    private static bool WithdrawnSinceProduction(RegistryDocument doc, VersionEntry entry)
    {
        if (!VersionStatus.IsWithdrawn(entry.Status)) return false;
        var tookProduction = doc.History.LastOrDefault(h => h.Alias == Production && h.To == entry.Version)?.At;
        return entry.StatusChanged is not { } change || tookProduction is not { } took || change.At >= took;
    }

    /// <summary>
    /// Moves <c>production</c> back to its <see cref="RollbackTarget"/>. A second rollback goes further back, never to
    /// the version rolled back from. With <paramref name="expected"/>, the move is made only if the target is still that
    /// version (one whose bytes the caller checked); else <see cref="RollbackTargetMovedException"/> and nothing is written.
    /// </summary>
    public async Task<AliasMove> RollbackAsync(string model, string by, string reason, CancellationToken ct, string? expected = null)
    {
        (string? From, string To, List<string> Skipped) target = (null, "", []);
        var doc = await UpdateAsync(model, doc =>
        {
            target = RollbackTarget(doc);
            if (expected is not null && target.To != expected) throw new RollbackTargetMovedException(target.To);
            doc.Aliases[Production] = target.To;
            doc.History.Add(new AliasChange(Production, target.From, target.To, DateTimeOffset.UtcNow, by, reason, AliasMoves.Rollback));
            return doc;
        }, ct).ConfigureAwait(false);
        return new AliasMove(doc, target.From, target.To, null) { Skipped = target.Skipped.Count > 0 ? target.Skipped : null };
    }

    /// <summary>
    /// Retires a version: it is never served again unless promoted with force. Other aliases that point at it are
    /// cleared (recorded in the history); the production version cannot be archived, move production first.
    /// </summary>
    public Task<RegistryDocument> ArchiveAsync(string model, string version, string by, string? reason, CancellationToken ct) =>
        UpdateAsync(model, doc =>
        {
            var index = doc.Versions.FindIndex(v => v.Version == version);
            if (index < 0) throw new NotFoundException($"Model '{model}' has no version '{version}'.");
            if (doc.Aliases.TryGetValue(Production, out var production) && production == version)
            {
                throw new ConflictException($"Version '{version}' of '{model}' is in production; promote another version or roll back before archiving it.");
            }
            if (doc.Versions[index].Status == VersionStatus.Archived) return null;
            doc.Versions[index] = doc.Versions[index] with { Status = VersionStatus.Archived, StatusChanged = new StatusChange(by, DateTimeOffset.UtcNow, reason) };
            foreach (var alias in doc.Aliases.Where(a => a.Value == version).Select(a => a.Key).ToList())
            {
                doc.Aliases.Remove(alias);
                doc.History.Add(new AliasChange(alias, version, null, DateTimeOffset.UtcNow, by, reason ?? $"{version} archived", AliasMoves.Archive));
            }
            return doc;
        }, ct);

    /// <summary>Most <see cref="RegistryDocument.ChampionRetained"/> entries kept; older ones remain in the audit log.</summary>
    public const int MaxChampionRetained = 100;

    /// <summary>Records on the model that a run kept its champion (once per orchestration: a retried call changes nothing).</summary>
    public Task<RegistryDocument> RecordChampionRetainedAsync(string model, ChampionRetained retained, CancellationToken ct) =>
        UpdateAsync(model, doc =>
        {
            if (doc.ChampionRetained.Any(r => r.OrchestrationId == retained.OrchestrationId)) return null;
            var kept = doc.ChampionRetained.Append(retained).TakeLast(MaxChampionRetained).ToList();
            return doc with { ChampionRetained = kept };
        }, ct);

    /// <summary>Read-modify-write of the registry under ETag concurrency, retried when another writer won the race.</summary>
    /// <remarks>A change that returns null writes nothing.</remarks>
    private async Task<RegistryDocument> UpdateAsync(string model, Func<RegistryDocument, RegistryDocument?> change, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var blob = storage.Models.GetBlobClient(RegistryBlob(model));
        for (var attempt = 0; ; attempt++)
        {
            var read = await JsonBlobs.TryReadAsync<RegistryDocument>(blob, ct).ConfigureAwait(false);
            var current = read?.Value ?? new RegistryDocument { Model = model };
            var updated = change(current with
            {
                Aliases = new Dictionary<string, string>(current.Aliases),
                Versions = [.. current.Versions],
                History = [.. current.History],
                TerminatedRuns = [.. current.TerminatedRuns],
            });
            if (updated is null) return current;
            try
            {
                if (read is { } r) await JsonBlobs.WriteAsync(blob, updated, ct, ifMatch: r.ETag).ConfigureAwait(false);
                else await JsonBlobs.WriteAsync(blob, updated, ct, createOnly: true).ConfigureAwait(false);
                return updated;
            }
            catch (RequestFailedException e) when (JsonBlobs.IsConcurrencyConflict(e) && attempt < MaxConcurrencyRetries)
            {
                logger.LogDebug("Registry of {ModelName} changed under us; retrying (attempt {Attempt})", model, attempt + 1);
                await Task.Delay(Random.Shared.Next(5, 50), ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The version registered from a candidate run (by any orchestration or by hand), or null.</summary>
    public async Task<ModelManifest?> FindRunAsync(string model, string runId, CancellationToken ct)
    {
        var registry = await GetAsync(model, ct).ConfigureAwait(false);
        return registry is null ? null : (await RegisteredRunsAsync(registry, ct).ConfigureAwait(false)).GetValueOrDefault(runId) is { } version
            ? await GetManifestAsync(model, version, ct).ConfigureAwait(false)
            : null;
    }

    /// <summary>
    /// The version each registered run became, by run id. The registry names the run of every version registered since it
    /// kept them; an older entry's run is read from its manifest.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> RegisteredRunsAsync(RegistryDocument registry, CancellationToken ct)
    {
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in registry.Versions)
        {
            var runId = entry.RunId ?? (await GetManifestAsync(registry.Model, entry.Version, ct).ConfigureAwait(false))?.RunId;
            if (runId is not null) versions.TryAdd(runId, entry.Version);
        }
        return versions;
    }

    private async Task<ModelManifest?> FindByRunAsync(string model, string orchestrationId, string runId, CancellationToken ct) =>
        await FindRunAsync(model, runId, ct).ConfigureAwait(false) is { } manifest && manifest.OrchestrationId == orchestrationId ? manifest : null;
}
