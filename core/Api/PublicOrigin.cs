using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Serverless.Core.Api;

/// <summary>
/// The scheme and host callers reached the app at, for the absolute URLs of an answer (a started run's status links and
/// Location). In the isolated worker the Functions host hands requests to the worker's Kestrel over plain http, so the
/// request's own scheme says http while callers used https (and an httpsOnly app redirects a POST to an http link, which
/// clients turn into a GET). The Azure front end says what callers used in <see cref="ProtoHeader"/> and
/// <see cref="HostHeader"/>: they are honoured when well formed and ignored otherwise, on both hosts.
/// </summary>
public static class PublicOrigin
{
    public const string ProtoHeader = "X-Forwarded-Proto";

    public const string HostHeader = "X-Forwarded-Host";

    /// <summary><c>scheme://host[:port]</c>, without a trailing slash: the forwarded scheme (http or https) and host when valid, else the request's own.</summary>
    public static string Of(HttpRequest request)
    {
        var scheme = Forwarded(request, ProtoHeader) is { } proto && (proto.Equals(Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase) || proto.Equals(Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase))
            ? proto.ToLowerInvariant()
            : request.Scheme;
        var host = Forwarded(request, HostHeader) is { } forwardedHost && IsHost(forwardedHost) ? forwardedHost : request.Host.Value;
        return $"{scheme}://{host}";
    }

    /// <summary>
    /// The header's last value: each proxy appends what it saw, so the last one is what the nearest proxy (the platform's
    /// front end) set, as ASP.NET Core's forwarded-headers middleware reads it.
    /// </summary>
    private static string? Forwarded(HttpRequest request, string header)
    {
        var values = request.Headers[header];
        if (values.Count == 0) return null;
        var last = values[^1]?.Split(',').LastOrDefault()?.Trim();
        return string.IsNullOrEmpty(last) ? null : last;
    }

    /// <summary>
    /// A host name of ASCII letters, digits and hyphens in dot-separated labels (an international name in its punycode
    /// form, xn--…), an IPv4 address of four numbers up to 255, or a bracketed IPv6 address, with an optional port from 1
    /// to 65535; nothing else (no path, user, spaces, underscores, or characters a response header cannot carry).
    /// </summary>
    internal static bool IsHost(string value)
    {
        var colon = value.LastIndexOf(':');
        var bracket = value.LastIndexOf(']');
        var (host, port) = colon > bracket ? (value[..colon], value[(colon + 1)..]) : (value, null);
        if (port is not null && !(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and <= 65535)) return false;
        if (host.StartsWith('[') && host.EndsWith(']')) return Uri.CheckHostName(host[1..^1]) == UriHostNameType.IPv6;
        var labels = host.Split('.');
        if (labels.Length == 4 && labels.All(l => l.Length > 0 && l.All(char.IsAsciiDigit)))
        {
            return labels.All(l => l.Length <= 3 && int.Parse(l, CultureInfo.InvariantCulture) <= 255);
        }
        return host.Length is > 0 and <= 253 && labels.All(l => l.Length is > 0 and <= 63 && l[0] != '-' && l[^1] != '-' && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
    }
}
