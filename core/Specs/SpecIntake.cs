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
    public async Task<SpecVersion> AcceptAsync(string model, ReadOnlyMemory<byte> json, string by, string source, string? reason, CancellationToken ct)
    {
        var latest = await datasets.GetLatestAsync(model, ct).ConfigureAwait(false);
        var spec = ModelSpecValidation.Parse(json, latest?.Schema);
        // Without a reason given, the version and its audit record say where it came from.
        var why = reason ?? $"spec set from {source}";
        var (version, changed) = await specs.SetAsync(model, spec, by, source, why, ct).ConfigureAwait(false);
        if (changed)
        {
            await audit.RecordAsync(AuditActions.SpecChanged, model, by, why,
                new { SpecVersion = version.Version, version.Sha256, Source = source, Spec = spec }, ct).ConfigureAwait(false);
            logger.LogInformation("Spec {SpecVersion} of {ModelName} is in force (from {Source}, by {Actor})", version.Version, model, source, by);
        }
        return version;
    }
}
