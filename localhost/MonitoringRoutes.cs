using Serverless.Core.Api;
using Serverless.Core.Monitoring;

namespace Serverless.LocalHost;

/// <summary>The routes of prediction monitoring: feedback on earlier predictions.</summary>
public static class MonitoringRoutes
{
    public static void MapMonitoringRoutes(this RouteGroupBuilder api)
    {
        api.MapPost(ApiRoutes.Feedback, (string model, HttpRequest r, FeedbackApi h, CancellationToken ct) => h.PostAsync(model, r, ct))
            .Describe<FeedbackReceipt>("PostFeedback", "Ground truth for logged predictions, by request id and row; one item, or {\"items\": [...]} of up to 1,000 such items", 200, 404, 409, 413)
            .BodyOneOf<FeedbackItem, FeedbackBatch>().RequestIdHeader();
    }
}
