using System.Reflection;
using System.Security.Claims;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Serverless.Core.Api;

namespace Serverless.Functions.Identity;

/// <summary>
/// Signs in the caller of an HTTP function from App Service authentication's client principal (the host has already
/// checked the function key of an admin route), so the audit log records who acted, and holds admin routes to
/// <see cref="ApiAccessOptions.AdminRole"/> when one is configured. The principal is read only while the platform says
/// its authentication is on (<see cref="ClientPrincipal.FromPlatform"/>): otherwise the header is the client's own. An admin route called with a function key only has
/// the caller <see cref="FunctionKeyCaller"/>: the host does not tell the worker which key it was.
/// </summary>
public sealed class CallerMiddleware(IOptions<ApiAccessOptions> access, IConfiguration configuration) : IFunctionsWorkerMiddleware
{
    public const string FunctionKeyCaller = "function-key";

    /// <summary>The admin routes: the HTTP functions that need a function key (<see cref="AuthorizationLevel.Function"/>).</summary>
    internal static readonly IReadOnlySet<string> AdminFunctions = typeof(CallerMiddleware).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods())
        .Where(m => m.GetParameters().Any(p => p.GetCustomAttribute<HttpTriggerAttribute>() is { AuthLevel: AuthorizationLevel.Function }))
        .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
        .OfType<string>()
        .ToHashSet(StringComparer.Ordinal);

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext();
        if (http is null)
        {
            await next(context);
            return;
        }
        var admin = AdminFunctions.Contains(context.FunctionDefinition.Name);
        var platformAuthentication = configuration[ClientPrincipal.PlatformAuthenticationSetting];
        if (ClientPrincipal.FromPlatform(http.Request.Headers[ClientPrincipal.Header].FirstOrDefault(), platformAuthentication) is { } principal)
        {
            http.User = principal;
        }
        else if (admin)
        {
            http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, FunctionKeyCaller)], "FunctionKey"));
        }
        if (admin && AdminAccess.CheckOnPlatform(http.User, access.Value.AdminRole, ClientPrincipal.IsPlatformAuthenticationOn(platformAuthentication)) is { } refusal)
        {
            await refusal.ExecuteAsync(http);
            return;
        }
        await next(context);
    }
}
