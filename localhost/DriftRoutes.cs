using Serverless.Core.Monitoring;
using Microsoft.DurableTask.Client;
using Microsoft.OpenApi;
using Serverless.Core.Api;
using Serverless.Orchestrations;

namespace Serverless.LocalHost;

/// <summary>The drift routes: reports are public, a check (which may start retraining) is an admin route.</summary>
public static class DriftRoutes
{
    public static void MapDriftRoutes(this RouteGroupBuilder api, RouteGroupBuilder admin)
    {
        api.MapGet(ApiRoutes.Drift, (string model, HttpRequest r, DriftApi h, CancellationToken ct) => h.ListAsync(model, r, ct))
            .Describe<DriftReportPage>("ListDriftReports", "Drift reports of a model, newest first, paged", 200, 404)
            .Query(DriftApi.TopParameter, "page size", JsonSchemaType.Integer).Query(DriftApi.SkipParameter, "reports to skip", JsonSchemaType.Integer);
        admin.MapPost(ApiRoutes.DriftCheck, (string model, HttpRequest r, DriftApi h, DurableTaskClient w, CancellationToken ct) => h.CheckAsync(model, r, w, ct))
            .Describe<DriftReport>("CheckDrift", "Check a model for drift now; answers the report (and whether retraining started)", 200, 404).Body<ReasonBody>(optional: true);
    }
}
