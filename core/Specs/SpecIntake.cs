using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Tracking;

namespace Serverless.Core.Specs;

/// <summary>
/// The one way a spec comes into force, over HTTP or dropped as <c>incoming/{model}/model.json</c>: read and checked in
/// full against the catalog and the latest dataset version, stored as the next version, and audited. A spec that fails
/// throws <see cref="InvalidSpecException"/> and changes nothing.
/// </summary>
public sealed class SpecIntake(ModelSpecStore specs, DatasetStore datasets, AuditLog audit, ILogger<SpecIntake> logger)
{
    public async Task<AcceptedSpec> AcceptAsync(string model, ReadOnlyMemory<byte> json, string by, string source, string? reason, CancellationToken ct)
    {
        var latest = await datasets.GetLatestAsync(model, ct).ConfigureAwait(false);
        // The label's count of values (its profile's), for a binary task asked of it; a binary dataset's label has two.
        var labelValues = latest is null || latest.Schema.Task == TaskKind.Binary ? null
            : (await datasets.GetProfileAsync(latest, ct).ConfigureAwait(false))?.Columns.FirstOrDefault(c => c.Name == latest.Schema.Label)?.Distinct;
        var spec = ModelSpecValidation.Parse(json, latest?.Schema, labelValues);
        // Without a reason given, the version and its audit record say where it came from.
        var why = reason ?? $"spec set from {source}";
        var (version, changed) = await specs.SetAsync(model, spec, by, source, why, ct).ConfigureAwait(false);
        if (changed)
        {
            await audit.RecordAsync(AuditActions.SpecChanged, model, by, why,
                new { SpecVersion = version.Version, version.Sha256, Source = source, Spec = spec }, ct).ConfigureAwait(false);
            logger.LogInformation("Spec {SpecVersion} of {ModelName} is in force (from {Source}, by {Actor})", version.Version, model, source, by);
        }
        var mismatches = latest is null ? [] : SpecFit.Mismatches(version.Spec, version.Sha256, latest);
        var note = mismatches.Count == 0 ? null
            : $"The latest dataset version {latest!.Version} was ingested under another spec, and training on it fails until it is ingested again: {string.Join(" ", mismatches)} {SpecFit.Remedy}";
        return new AcceptedSpec(version, changed, note);
    }
}

/// <summary>
/// A spec in force: its <see cref="Version"/>, whether it <see cref="Changed"/> anything (the same spec again does not),
/// and a <see cref="Note"/> when the latest dataset version was ingested under a spec this one no longer describes.
/// </summary>
public sealed record AcceptedSpec(SpecVersion Version, bool Changed, string? Note);
