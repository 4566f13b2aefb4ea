using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using Serverless.Core.Api;

namespace Serverless.Functions.Errors;

/// <summary>
/// Answers an exception that escapes an HTTP function with the problem details the local host's exception handler
/// writes (<see cref="UnhandledFault"/>: a 500 with the request id, a 503 when storage cannot be reached) instead of the platform's empty 500. Registered
/// first, so it also covers the other middleware. Exceptions of other triggers go on to the host, which retries them.
/// </summary>
public sealed class UnhandledExceptionMiddleware(ILogger<UnhandledExceptionMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (context.GetHttpContext() is { } http && !http.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(e, "Unhandled exception in HTTP function {FunctionName}", context.FunctionDefinition.Name);
            if (!await UnhandledFault.WriteAsync(http, e)) throw;
        }
    }
}
