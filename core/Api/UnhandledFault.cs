using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using Serverless.Core.Storage;

namespace Serverless.Core.Api;

/// <summary>
/// The answer to an exception no handler mapped (<see cref="ApiResults.ProblemOf"/> gave none), written by the host's
/// <see cref="IProblemDetailsService"/> so it carries what <see cref="Hosting.PipelineHostingExtensions.AddPipelineApi"/>
/// adds to every problem (the request id): a 503 saying to retry when the storage account could not be reached
/// (<see cref="StorageUnreachable"/>), else a 500. The local host's exception handler and the Functions worker's
/// middleware both call it, so the two hosts answer a fault alike.
/// </summary>
public static class UnhandledFault
{
    public const string StorageUnreachableTitle = "Storage unreachable";

    /// <summary>Writes the problem; false when the answer had already started (then the connection is all that is left to fail).</summary>
    public static async Task<bool> WriteAsync(HttpContext context, Exception exception)
    {
        if (context.Response.HasStarted) return false;
        // As the exception handler does: nothing the failed handler set (headers, a status) goes out with the problem.
        context.Response.Clear();
        var problem = new ProblemDetailsContext { HttpContext = context, Exception = exception };
        if (StorageUnreachable.Is(exception))
        {
            var retryAfter = (int)StorageUnreachable.RetryAfter.TotalSeconds;
            context.Response.Headers[HeaderNames.RetryAfter] = retryAfter.ToString(CultureInfo.InvariantCulture);
            problem.ProblemDetails.Status = StatusCodes.Status503ServiceUnavailable;
            problem.ProblemDetails.Title = StorageUnreachableTitle;
            // The request may have changed something before storage went away (a spec written, a run started): said, so
            // that a caller looks before repeating a change.
            problem.ProblemDetails.Detail = $"The pipeline's storage account cannot be reached, so the request could not be completed. "
                + $"Retry in {retryAfter} s (Retry-After); before repeating a change, read its state first: part of it may have been done.";
        }
        else
        {
            problem.ProblemDetails.Status = StatusCodes.Status500InternalServerError;
        }
        context.Response.StatusCode = problem.ProblemDetails.Status.Value;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        return await problems.TryWriteAsync(problem);
    }
}
