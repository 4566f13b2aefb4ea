using System.Globalization;
using Microsoft.AspNetCore.Http;
using Serverless.Core.Hosting;
using Serverless.Core.Tracking;

namespace Serverless.Core.Api;

/// <summary>The query string of <c>GET /api/audit</c>: parsed into an <see cref="AuditQuery"/>, every bad parameter named in one 400.</summary>
public static class AuditQueries
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>The parameters <see cref="Parse"/> reads.</summary>
    public static IReadOnlyList<string> Parameters { get; } = [ModelParameter, ActionParameter, FromParameter, ToParameter, MaxParameter, PageParameter];

    public const string ModelParameter = "model", ActionParameter = "action", FromParameter = "from", ToParameter = "to", MaxParameter = "max", PageParameter = "page";

    public static AuditQuery Parse(IQueryCollection query)
    {
        var errors = new Dictionary<string, string[]>();
        ApiResults.UnknownQueryParameters(query, Parameters, errors);
        var model = query[ModelParameter].FirstOrDefault();
        if (model is not null && !ModelNames.IsValid(model)) errors[ModelParameter] = [ModelNames.Rule];
        var action = query[ActionParameter].FirstOrDefault();
        if (action is not null && !AuditActions.All.Contains(action, StringComparer.Ordinal))
        {
            errors[ActionParameter] = [$"unknown action '{Shown(action)}'; {Specs.NameSuggestions.Hint(action, AuditActions.All)}"];
        }
        var from = Time(query, FromParameter, errors);
        var to = Time(query, ToParameter, errors);
        if (from > to) errors[FromParameter] = ["must not be after 'to'"];
        var size = DefaultPageSize;
        var max = query[MaxParameter].FirstOrDefault();
        if (max is not null && (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxPageSize))
        {
            errors[MaxParameter] = [$"a whole number from 1 to {MaxPageSize}, not '{Shown(max)}'"];
        }
        var page = query[PageParameter].FirstOrDefault();
        string? continuation = null;
        if (page is not null && !TryReadPage(page, Filters(model, action, from, to), out continuation))
        {
            errors[PageParameter] = ["not a page this API gave for these filters: follow the 'next' path of the previous answer"];
        }
        if (errors.Count > 0)
        {
            throw new BadRequestException($"The audit query has {errors.Count} bad parameter(s): {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"))}.", errors);
        }
        return new AuditQuery(model, action, from, to, size, continuation);
    }

    /// <summary>The path of the next page of <paramref name="read"/>: the same filters, and where to continue.</summary>
    public static string NextPath(IQueryCollection query, AuditQuery read, string next)
    {
        var parameters = query.Where(p => p.Key != PageParameter).SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}"));
        return $"/{ApiRoutes.Prefix}/{ApiRoutes.Audit}?{string.Join("&", parameters.Append($"page={WritePage(next, Filters(read.Model, read.Action, read.From, read.To))}"))}";
    }

    /// <summary>
    /// What a page belongs to: the filters it was read with. A page carries them, so one reused under other filters (where
    /// it would start in the middle of another listing) is refused rather than answered with whatever follows it.
    /// </summary>
    private static string Filters(string? model, string? action, DateTimeOffset? from, DateTimeOffset? to) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"{model}\n{action}\n{from?.UtcTicks}\n{to?.UtcTicks}")))[..12];

    // A page is the table's continuation token behind a mark, in URL-safe base64: the table reads any text as a place to
    // start from, so a page this API did not give is refused rather than answered with whatever follows it.
    private const string PageMark = "audit-page:";

    private static string WritePage(string continuation, string filters) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{PageMark}{filters}:{continuation}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryReadPage(string page, string filters, out string? continuation)
    {
        continuation = null;
        if (page.Length is 0 or > 4000) return false;
        var base64 = page.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var written)) return false;
        var text = System.Text.Encoding.UTF8.GetString(bytes, 0, written);
        var mark = $"{PageMark}{filters}:";
        if (!text.StartsWith(mark, StringComparison.Ordinal) || text.Length == mark.Length) return false;
        continuation = text[mark.Length..];
        return true;
    }

    private static DateTimeOffset? Time(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        var text = query[name].FirstOrDefault();
        if (text is null) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)) return at;
        // A '+' of an offset left unescaped in a URL arrives as a space: read as it was meant, the time would parse.
        var plus = text.Contains(' ', StringComparison.Ordinal) && DateTimeOffset.TryParse(text.Replace(' ', '+'), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)
            ? " (a '+' in a URL reads as a space: write it %2B, as in +01:00 → %2B01:00)" : "";
        errors[name] = [$"a time in ISO 8601, e.g. 2026-01-31T12:00:00Z, not '{Shown(text)}'{plus}"];
        return null;
    }

    private static string Shown(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
