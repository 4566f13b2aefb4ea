using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serverless.Core.Monitoring;

namespace Serverless.Core.Api;

using static ApiResults;

/// <summary>The HTTP handler of feedback, shared by both hosts.</summary>
public sealed class FeedbackApi(FeedbackService feedback, ILogger<FeedbackApi> logger)
{
    /// <summary>
    /// <c>POST /api/models/{model}/feedback</c>: ground truth for logged predictions, one item
    /// <c>{"requestId": "...", "row": 0, "label": 12.5}</c> (row optional, default 0) or <c>{"items": [...]}</c> of them.
    /// Answers how many labels were stored per version. Errors: 400 (bad shape, an unknown request id, a row the request
    /// did not have, a label of the wrong type; each named as <c>items[i].field</c>, or <c>field</c> for a single item;
    /// nothing is stored then), 404 (no such model), 413 (too many items). Every answer carries the feedback request's
    /// own <c>x-request-id</c>, as predict's do.
    /// </summary>
    public Task<IResult> PostAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        // The id first: every answer carries it, a refused query parameter's too.
        KeepRequestIdForProblems(request, AnswerRequestId(request));
        OnlyQueryParameters(request);
        CheckModelName(model);
        using var document = await ReadDocumentAsync(request, ct);
        return Json(await feedback.AddAsync(model, document.RootElement, ct));
    });
}
