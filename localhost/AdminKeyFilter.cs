using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Serverless.Core.Api;

namespace Serverless.LocalHost;

/// <summary>The local host's stand-in for function keys and App Service authentication, bound from <c>Pipeline:Api</c>.</summary>
public sealed class ApiOptions
{
    public const string Section = ApiAccessOptions.Section;

    /// <summary>The caller name of <see cref="AdminKey"/> in the audit log.</summary>
    public const string DefaultKeyName = "admin";

    /// <summary>When set, the admin routes require it (or a named key) in the <c>x-functions-key</c> header or the <c>code</c> query parameter.</summary>
    public string? AdminKey { get; set; }

    /// <summary>Named admin keys (<c>Pipeline:Api:AdminKeys:{name}</c>): the name is the caller the audit log records.</summary>
    public Dictionary<string, string> AdminKeys { get; set; } = [];

    /// <summary>Roles of each key's caller (<c>Pipeline:Api:KeyRoles:{name}</c>, comma-separated), for <see cref="ApiAccessOptions.AdminRole"/>.</summary>
    public Dictionary<string, string> KeyRoles { get; set; } = [];

    /// <summary>Every configured key with its caller name; <see cref="AdminKey"/> is named <see cref="DefaultKeyName"/>.</summary>
    public IEnumerable<(string Name, string Key)> Keys()
    {
        if (!string.IsNullOrEmpty(AdminKey)) yield return (DefaultKeyName, AdminKey);
        foreach (var (name, key) in AdminKeys)
        {
            if (!string.IsNullOrEmpty(key)) yield return (name, key);
        }
    }
}

/// <summary>
/// Signs in the caller of an admin route by its key and checks its role: 401 without a key, 403 with a wrong one or
/// without the role <see cref="ApiAccessOptions.AdminRole"/> names. The key's name becomes the request's user, which the
/// audit log records. With no key configured the admin routes are open, to an anonymous caller.
/// </summary>
public sealed class AdminKeyFilter(IOptions<ApiOptions> options, IOptions<ApiAccessOptions> access) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var keys = options.Value.Keys().ToList();
        var http = context.HttpContext;
        if (http.Request.Query[AdminAccess.KeyParameter] is { Count: > 1 } codes)
        {
            // Which key was meant cannot be told: neither is tried.
            return ApiResults.Problem(StatusCodes.Status400BadRequest, "Bad Request", $"'{AdminAccess.KeyParameter}' is given {codes.Count} times; give it once.");
        }
        if (keys.Count > 0)
        {
            var given = http.Request.Headers[AdminAccess.KeyHeader].FirstOrDefault() ?? http.Request.Query[AdminAccess.KeyParameter].FirstOrDefault();
            if (string.IsNullOrEmpty(given))
            {
                // A 401 names how to authenticate (RFC 9110): an API key, in the header or the query parameter.
                return new ApiResults.WithHeader(ApiResults.Problem(StatusCodes.Status401Unauthorized, "Unauthorized",
                        $"This route needs an admin key in the {AdminAccess.KeyHeader} header (or the {AdminAccess.KeyParameter} query parameter)."),
                    Microsoft.Net.Http.Headers.HeaderNames.WWWAuthenticate, $"ApiKey header=\"{AdminAccess.KeyHeader}\", query=\"{AdminAccess.KeyParameter}\"");
            }
            if (Match(keys, given) is not { } name)
            {
                return ApiResults.Problem(StatusCodes.Status403Forbidden, "Forbidden", "The admin key is wrong.");
            }
            http.User = Caller(name, options.Value.KeyRoles.GetValueOrDefault(name));
        }
        return AdminAccess.Check(http.User, access.Value.AdminRole) ?? await next(context);
    }

    /// <summary>The name of the key given, comparing with every key in constant time.</summary>
    private static string? Match(List<(string Name, string Key)> keys, string given)
    {
        var bytes = Encoding.UTF8.GetBytes(given);
        string? found = null;
        foreach (var (name, key) in keys)
        {
            if (CryptographicOperations.FixedTimeEquals(bytes, Encoding.UTF8.GetBytes(key))) found ??= name;
        }
        return found;
    }

    private static ClaimsPrincipal Caller(string name, string? roles)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange((roles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "AdminKey"));
    }
}
