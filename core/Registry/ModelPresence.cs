using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Core.Registry;

/// <summary>
/// Whether the pipeline holds anything of a model: a registered version, a dataset version, a spec, or an upload it
/// quarantined. A model exists from the first of these on, and every route that can say "there is no such model" asks
/// here and says it in the same words.
/// </summary>
public sealed class ModelPresence(ModelRegistry registry, DatasetStore datasets, ModelSpecStore specs, QuarantineStore quarantine)
{
    /// <summary>Cheapest first: each is one blob read, but for the quarantine's listing.</summary>
    public async Task<bool> ExistsAsync(string model, CancellationToken ct) =>
        await registry.GetAsync(model, ct).ConfigureAwait(false) is not null
        || await datasets.GetLatestAsync(model, ct).ConfigureAwait(false) is not null
        || await specs.GetCurrentAsync(model, ct).ConfigureAwait(false) is not null
        || (await quarantine.ListAsync(model, ct).ConfigureAwait(false)).Count > 0;

    /// <exception cref="NotFoundException">Nothing of the model exists (<see cref="NotFound"/>).</exception>
    public async Task EnsureExistsAsync(string model, CancellationToken ct)
    {
        if (!await ExistsAsync(model, ct).ConfigureAwait(false)) throw NotFound(model);
    }

    public static NotFoundException NotFound(string model) =>
        new($"There is no model '{model}': drop a data file into incoming/{model}/ or set its spec (PUT {Api.ApiRoutes.SpecOf(model)}) to create it, " +
            $"or check the name (GET {Api.ApiRoutes.ModelsPath} lists them).");
}
