using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Serverless.Core.Dashboard;

/// <summary>
/// The dashboard (<c>GET /</c> on the local host, <c>GET /api/dashboard</c> on both hosts): one HTML page composed once
/// from the hand-written page, style and script embedded in this assembly, with the style and script inlined so the page
/// is a single response that needs nothing else, not even a second request. Its content security policy allows exactly
/// that inline style and script (by hash) and requests to this host.
/// </summary>
public sealed class DashboardPage
{
    private const string ResourcePrefix = "Serverless.Core.Dashboard.";
    private const string StyleLink = "<link rel=\"stylesheet\" href=\"dashboard.css\">";
    private const string ScriptTag = "<script src=\"dashboard.js\"></script>";

    private readonly byte[] _html;
    private readonly string _etag;
    private readonly string _policy;

    public DashboardPage()
    {
        var page = Read("index.html");
        var style = Read("dashboard.css");
        var script = Read("dashboard.js");
        if (!page.Contains(StyleLink, StringComparison.Ordinal) || !page.Contains(ScriptTag, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The dashboard's index.html no longer links dashboard.css and dashboard.js the way DashboardPage inlines them.");
        }
        var html = page
            .Replace(StyleLink, "<style>" + style + "</style>", StringComparison.Ordinal)
            .Replace(ScriptTag, "<script>" + script + "</script>", StringComparison.Ordinal);
        _html = Encoding.UTF8.GetBytes(html);
        _etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(_html))[..16] + "\"";
        _policy = $"default-src 'none'; connect-src 'self'; img-src 'self' data:; style-src '{Hash(style)}'; script-src '{Hash(script)}'; base-uri 'none'; frame-ancestors 'none'";
    }

    /// <summary>The composed page (UTF-8).</summary>
    public ReadOnlyMemory<byte> Html => _html;

    /// <summary>Answers the page, or 304 when the browser holds this very page.</summary>
    public IResult Serve(HttpRequest request)
    {
        var headers = request.HttpContext.Response.Headers;
        headers[HeaderNames.ETag] = _etag;
        headers[HeaderNames.CacheControl] = "no-cache";
        headers[HeaderNames.ContentSecurityPolicy] = _policy;
        headers[HeaderNames.XContentTypeOptions] = "nosniff";
        if (request.Headers.IfNoneMatch.Contains(_etag)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(_html, Api.ApiResults.HtmlContentType);
    }

    private static string Hash(string inline) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline)));

    private static string Read(string name)
    {
        using var stream = typeof(DashboardPage).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The dashboard asset '{name}' is not embedded in {typeof(DashboardPage).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
