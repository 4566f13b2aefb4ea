using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;

namespace Serverless.Core.Api;

using static ApiResults;

/// <summary>
/// <c>GET /api/models/{model}/datasets</c>: what became of every upload of a model, without reading the host's log: the
/// dataset versions (newest first, with what became of each line of their upload), the uploads that duplicated a
/// version, and the quarantined files with their reports' text. A model with only quarantined files answers with them;
/// 404 only when nothing was ever uploaded.
/// </summary>
public sealed class DatasetsApi(DatasetStore datasets, QuarantineStore quarantine, ModelPresence presence, ILogger<DatasetsApi> logger)
{
    public Task<IResult> ListAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        var versions = await datasets.ListVersionsAsync(model, ct);
        var latest = await datasets.GetLatestAsync(model, ct);
        var duplicates = await datasets.ListDuplicatesAsync(model, ct);
        var quarantined = await quarantine.ListAsync(model, ct);
        if (versions.Count == 0 && duplicates.Count == 0 && quarantined.Count == 0) await presence.EnsureExistsAsync(model, ct);
        return Json(new DatasetList(model, latest?.Version, [.. versions.Reverse().Select(DatasetVersionEntry.Of)], [.. duplicates.Select(DuplicateEntry.Of)],
            [.. quarantined.Select(q => QuarantinedEntry.Of(q, quarantine.OriginalOf(q)))]));
    });
}
