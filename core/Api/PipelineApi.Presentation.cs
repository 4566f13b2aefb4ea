using Serverless.Core.Registry;
using Serverless.Core.Serving;

namespace Serverless.Core.Api;

using static ApiResults;

/// <summary>How the model routes present versions and a model's input signature.</summary>
public sealed partial class PipelineApi
{
    /// <summary>The latest registered version in the vN form (the registry keeps its number).</summary>
    private static string? LatestVersion(RegistryDocument? doc) => doc is { LatestVersion: > 0 } ? VersionNames.Format(doc.LatestVersion) : null;

    /// <summary>
    /// The input signature and an example request of the version that answers unpinned predictions (production, else
    /// the latest registered), from its manifest and its dataset's profile; none when the model has no version.
    /// </summary>
    private async Task<(InputSignature?, IReadOnlyDictionary<string, object?>?)> SignatureAsync(string model, RegistryDocument? doc, CancellationToken ct)
    {
        if (doc is null) return (null, null);
        var version = doc.Aliases.GetValueOrDefault(ModelRegistry.Production) ?? doc.Versions.LastOrDefault()?.Version;
        if (version is null) return (null, null);
        ModelManifest? manifest;
        try
        {
            manifest = await registry.GetManifestAsync(model, version, ct);
        }
        catch (ModelUnavailableException)
        {
            // A damaged manifest: the view still lists the model and its versions; that version's own routes say what is wrong.
            return (null, null);
        }
        if (manifest is null) return (null, null);
        var signature = InputSignature.Of(version, manifest.Schema);
        var profile = await datasets.GetProfileAsync(model, manifest.DatasetVersion, ct);
        return (signature, signature.Example(profile));
    }
}
