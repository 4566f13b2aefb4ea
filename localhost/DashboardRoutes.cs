using Serverless.Core.Monitoring;
using Microsoft.OpenApi;
using Serverless.Core.Api;
using Serverless.Core.Dashboard;

namespace Serverless.LocalHost;

/// <summary>The dashboard's routes on the local host: the page at the root and under the API prefix, and the quarantine listing and the drift histograms.</summary>
public static class DashboardRoutes
{
    /// <summary>Where the local host serves the dashboard besides <see cref="ApiRoutes.Dashboard"/>.</summary>
    public const string Root = "/";

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/" + ApiRoutes.Prefix);
        app.MapGet(Root, (HttpRequest r, DashboardPage page) => page.Serve(r))
            .DescribeFile("DashboardAtRoot", "The dashboard page (HTML), as at /" + ApiRoutes.Prefix + "/" + ApiRoutes.Dashboard, ApiResults.HtmlContentType)
            .LocalOnly();
        api.MapGet(ApiRoutes.Dashboard, (HttpRequest r, DashboardPage page) => page.Serve(r))
            .DescribeFile("Dashboard", "The dashboard page (HTML)", ApiResults.HtmlContentType);
        api.MapGet(ApiRoutes.Quarantine, (string model, HttpRequest r, QuarantineApi h, CancellationToken ct) => h.ListAsync(model, r, ct))
            .Describe<QuarantineList>("ListQuarantined", "A model's quarantined files with their reasons", 200, 404)
            .Query(QuarantineApi.MaxParameter, "most files, 1 to 500 (default 50)", JsonSchemaType.Integer);
        api.MapGet(ApiRoutes.DriftHistogram, (string model, HttpRequest r, DriftHistogramApi h, CancellationToken ct) => h.GetAsync(model, r, ct))
            .Describe<FeatureHistogram>("GetDriftHistogram", "A feature's reference and current histograms in the same bins", 200, 404).Query("feature", "the feature");
    }
}
