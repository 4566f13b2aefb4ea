using Microsoft.Extensions.Options;

namespace Serverless.LocalHost;

/// <summary>The local host's stand-in for function keys, bound from <c>Pipeline:Api</c>.</summary>
public sealed class ApiOptions
{
    public const string Section = "Pipeline:Api";

    /// <summary>When set, the admin routes require it in the <c>x-functions-key</c> header or the <c>code</c> query parameter.</summary>
    public string? AdminKey { get; set; }
}

/// <summary>Requires the configured admin key on admin routes: 401 without a key, 403 with a wrong one.</summary>
public sealed class AdminKeyFilter(IOptions<ApiOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = options.Value.AdminKey;
        if (string.IsNullOrEmpty(expected)) return await next(context);
        var request = context.HttpContext.Request;
        var given = request.Headers["x-functions-key"].FirstOrDefault() ?? request.Query["code"].FirstOrDefault();
        if (string.IsNullOrEmpty(given))
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: "This route needs the admin key in the x-functions-key header (or the code query parameter).");
        }
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(given), System.Text.Encoding.UTF8.GetBytes(expected)))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "The admin key is wrong.");
        }
        return await next(context);
    }
}
