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
/// <c>skip</c>) and <c>POST /api/models/{model}/drift/check</c> (a check now, which may start retraining). An unknown model
/// is a 404; a model without production or traffic gets a report that says so.
/// </summary>
public sealed class DriftApi(DriftMonitor monitor, DriftStore store, ModelPresence presence, ILogger<DriftApi> logger)
{
    public const int MaxPageSize = 100;

    public Task<IResult> ListAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        var top = QueryInt(request, "top", 20, 1, MaxPageSize);
        var skip = QueryInt(request, "skip", 0, 0, int.MaxValue);
        await presence.EnsureExistsAsync(model, ct);
        var (total, reports) = await store.ListAsync(model, skip, top, ct);
        return Json(new { Model = model, Total = total, Skip = skip, Top = top, Reports = reports });
    });

    public Task<IResult> CheckAsync(string model, HttpRequest request, DurableTaskClient workflows, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        return Json(await monitor.CheckAsync(model, "http", Actor(request), workflows, ct));
    });

    private static int QueryInt(HttpRequest request, string name, int fallback, int min, int max)
    {
        var text = request.Query[name].FirstOrDefault();
        if (text is null) return fallback;
        if (!int.TryParse(text, out var value) || value < min || value > max)
        {
            throw new BadRequestException($"'{name}' must be a whole number from {min} to {max}, not '{text}'.", Field(name, $"{min} to {max}"));
        }
        return value;
    }
}
