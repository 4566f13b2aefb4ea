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
        app.MapGet(Root, (HttpRequest r, DashboardPage page) => page.Serve(r));
        api.MapGet(ApiRoutes.Dashboard, (HttpRequest r, DashboardPage page) => page.Serve(r));
        api.MapGet(ApiRoutes.Quarantine, (string model, HttpRequest r, QuarantineApi h, CancellationToken ct) => h.ListAsync(model, r, ct));
        api.MapGet(ApiRoutes.DriftHistogram, (string model, HttpRequest r, DriftHistogramApi h, CancellationToken ct) => h.GetAsync(model, r, ct));
    }
}
