using Serverless.Core.Api;

namespace Serverless.LocalHost;

/// <summary>The routes of prediction monitoring: feedback on earlier predictions.</summary>
public static class MonitoringRoutes
{
    public static void MapMonitoringRoutes(this RouteGroupBuilder api)
    {
        api.MapPost(ApiRoutes.Feedback, (string model, HttpRequest r, FeedbackApi h, CancellationToken ct) => h.PostAsync(model, r, ct))
            .Describe("PostFeedback", "Ground truth for logged predictions, by request id and row; one item or {\"items\": [...]}", 200, 404, 413);
    }
}
