using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Serverless.Core.Api;

/// <summary>
/// The answer to an exception no handler mapped (<see cref="ApiResults.ProblemOf"/> gave none): a 500 problem written by
/// the host's <see cref="IProblemDetailsService"/>, as ASP.NET Core's exception handler writes it on the local host, so it
/// carries what <see cref="Hosting.PipelineHostingExtensions.AddPipelineApi"/> adds to every problem (the request id).
/// The Functions worker has no exception handler middleware and calls this from its own.
/// </summary>
public static class UnhandledFault
{
    /// <summary>Writes the 500 problem; false when the answer had already started (then the connection is all that is left to fail).</summary>
    public static async Task<bool> WriteAsync(HttpContext context, Exception exception)
    {
        if (context.Response.HasStarted) return false;
        // As the exception handler does: nothing the failed handler set (headers, a status) goes out with the problem.
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = StatusCodes.Status500InternalServerError },
        });
    }
}
