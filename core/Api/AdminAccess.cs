using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Serverless.Core.Api;

/// <summary>
/// The check both hosts make before an admin route runs, once the caller is known (the local host from its admin keys,
/// the Functions app from App Service authentication): a problem-details answer, or null to go on.
/// </summary>
public static class AdminAccess
{
    /// <summary>
    /// The query parameter that may carry an admin key instead of the <c>x-functions-key</c> header, as Azure Functions'
    /// own <c>code</c>: every route takes it (<see cref="ApiResults.OnlyQueryParameters"/>).
    /// </summary>
    public const string KeyParameter = "code";

    /// <summary>The header that carries an admin key, as on Azure Functions.</summary>
    public const string KeyHeader = "x-functions-key";

    /// <summary>The audit actor of a request no one signed in to (admin routes are open when no key is configured).</summary>
    public const string Anonymous = "anonymous";

    /// <summary>401 for no caller when a role is required, 403 for a caller outside the role; else null.</summary>
    public static IResult? Check(ClaimsPrincipal caller, string? requiredRole)
    {
        if (string.IsNullOrWhiteSpace(requiredRole)) return null;
        if (caller.Identity is not { IsAuthenticated: true })
        {
            return ApiResults.Problem(StatusCodes.Status401Unauthorized, "Unauthorized",
                $"This route needs a signed-in caller in the role '{requiredRole}'.");
        }
        if (!caller.IsInRole(requiredRole))
        {
            return ApiResults.Problem(StatusCodes.Status403Forbidden, "Forbidden",
                $"The caller '{ActorOf(caller)}' is not in the role '{requiredRole}' that this route needs.");
        }
        return null;
    }

    /// <summary>
    /// The check of an admin route on Azure, where a role can only come from App Service authentication: with a role
    /// required and that authentication off (<see cref="ClientPrincipal.IsPlatformAuthenticationOn"/>), no caller can ever
    /// be in the role, so the answer is a 500 that names the setting to change rather than a 401 or 403 no caller could
    /// remedy; else <see cref="Check"/>.
    /// </summary>
    public static IResult? CheckOnPlatform(ClaimsPrincipal caller, string? requiredRole, bool platformAuthentication)
    {
        if (!string.IsNullOrWhiteSpace(requiredRole) && !platformAuthentication)
        {
            return ApiResults.Problem(StatusCodes.Status500InternalServerError, "Admin role without App Service authentication",
                $"{ApiAccessOptions.Section}:{nameof(ApiAccessOptions.AdminRole)} is '{requiredRole}', but App Service authentication is off for this app "
                + $"({ClientPrincipal.PlatformAuthenticationSetting} is not True), so no caller can be signed in with a role and every admin request is refused. "
                + "Turn App Service authentication on (deploy with authClientId set), or clear the role (adminRole, "
                + $"{ApiAccessOptions.Section.Replace(":", "__", StringComparison.Ordinal)}__{nameof(ApiAccessOptions.AdminRole)}) so that a function key alone calls the admin routes.");
        }
        return Check(caller, requiredRole);
    }

    /// <summary>The name the audit log records for a caller.</summary>
    public static string ActorOf(ClaimsPrincipal caller) =>
        caller.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name[..Math.Min(name.Length, 100)] : Anonymous;
}
