using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;

namespace Serverless.Orchestrations;

using static ApiResults;

/// <summary>
/// The HTTP handlers of drift: <c>GET /api/models/{model}/drift</c> (reports, newest first, paged with <c>top</c> and
/// <c>skip</c>) and <c>POST /api/models/{model}/drift/check</c> (a check now, which may start retraining; an optional
/// <c>{"reason"}</c> goes into its audit record). An unknown model
/// is a 404; a model without production or traffic gets a report that says so.
/// </summary>
public sealed class DriftApi(DriftMonitor monitor, DriftStore store, ModelPresence presence, ILogger<DriftApi> logger)
{
    public const int MaxPageSize = 100;
    public const string TopParameter = "top";
    public const string SkipParameter = "skip";

    public Task<IResult> ListAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        OnlyQueryParameters(request, TopParameter, SkipParameter);
        var top = QueryInt(request, TopParameter, 20, 1, MaxPageSize);
        var skip = QueryInt(request, SkipParameter, 0, 0, int.MaxValue);
        await presence.EnsureExistsAsync(model, ct);
        var (total, reports) = await store.ListAsync(model, skip, top, ct);
        return Json(new DriftReportPage(model, total, skip, top, reports));
    });

    public Task<IResult> CheckAsync(string model, HttpRequest request, DurableTaskClient workflows, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        return Json(await monitor.CheckAsync(model, "http", Actor(request), workflows, ct, body?.Reason));
    });

}
