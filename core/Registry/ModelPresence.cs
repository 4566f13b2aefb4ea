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

    /// <summary>
    /// What to tell a caller who asked for something of a model that is not there (a version, a dataset version, a run):
    /// the 404 every route gives when the model itself does not exist, else <paramref name="missing"/>.
    /// </summary>
    public async Task<NotFoundException> WithoutAsync(string model, string missing, CancellationToken ct) =>
        await ExistsAsync(model, ct).ConfigureAwait(false) ? new NotFoundException(missing) : NotFound(model);

    /// <summary>
    /// What to tell a caller who needs a model's registry when it has none: a 404 that the model has no registered version
    /// yet where something of it exists, else the 404 of <see cref="NotFound"/>, worded as every route words it.
    /// </summary>
    public async Task<NotFoundException> WithoutVersionAsync(string model, CancellationToken ct) =>
        await ExistsAsync(model, ct).ConfigureAwait(false) ? new NotFoundException($"Model '{model}' has no registered version yet.") : NotFound(model);

    /// <summary>
    /// What to tell a caller who needs a model's data when it has none: every upload was quarantined (409, the files
    /// and their reasons), it has only a spec (409), or nothing of it exists (404, <see cref="NotFound"/>).
    /// </summary>
    public async Task<Exception> WithoutDataAsync(string model, CancellationToken ct)
    {
        var quarantined = await quarantine.ListAsync(model, ct).ConfigureAwait(false);
        if (quarantined.Count > 0)
        {
            const int shown = 3;
            var files = string.Join("; ", quarantined.Take(shown).Select(q => $"{q.Report.Blob}: {q.Report.Reason}"));
            return new ConflictException($"Model '{model}' has no data: every file uploaded for it was quarantined ({files}" +
                                         (quarantined.Count > shown ? $"; and {quarantined.Count - shown} more" : "") +
                                         $"). Fix the file and upload it again to incoming/{model}/; GET {Api.ApiRoutes.DatasetsOf(model)} lists them all.");
        }
        if (await specs.GetCurrentAsync(model, ct).ConfigureAwait(false) is { } spec)
        {
            return new ConflictException($"Model '{model}' has a spec (version {spec.Version}) but no data yet: drop a data file into incoming/{model}/, " +
                                         "and the run it starts registers the first version.");
        }
        return NotFound(model);
    }

    public static NotFoundException NotFound(string model) => model == Datasets.DropZoneNames.InvalidFolder
        // The folder of files dropped under no valid model name: no model can be made under it.
        ? new($"No file has been dropped under a folder that is no valid model name, so '{model}' holds nothing (GET {Api.ApiRoutes.ModelsPath} lists the models).")
        : new($"There is no model '{model}': drop a data file into incoming/{model}/ or set its spec (PUT {Api.ApiRoutes.SpecOf(model)}) to create it, " +
              $"or check the name (GET {Api.ApiRoutes.ModelsPath} lists them).");
}
