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

    public static AuditQuery Parse(IQueryCollection query)
    {
        var errors = new Dictionary<string, string[]>();
        var model = query["model"].FirstOrDefault();
        if (model is not null && !ModelNames.IsValid(model)) errors["model"] = [ModelNames.Rule];
        var action = query["action"].FirstOrDefault();
        if (action is not null && !AuditActions.All.Contains(action, StringComparer.Ordinal))
        {
            errors["action"] = [$"unknown action '{Shown(action)}'; {Specs.NameSuggestions.Hint(action, AuditActions.All)}"];
        }
        var from = Time(query, "from", errors);
        var to = Time(query, "to", errors);
        if (from > to) errors["from"] = ["must not be after 'to'"];
        var size = DefaultPageSize;
        var max = query["max"].FirstOrDefault();
        if (max is not null && (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxPageSize))
        {
            errors["max"] = [$"a whole number from 1 to {MaxPageSize}, not '{Shown(max)}'"];
        }
        var page = query["page"].FirstOrDefault();
        if (page is { Length: 0 or > 2000 }) errors["page"] = ["the 'next' value of the previous answer"];
        if (errors.Count > 0)
        {
            throw new BadRequestException($"The audit query has {errors.Count} bad parameter(s): {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"))}.", errors);
        }
        return new AuditQuery(model, action, from, to, size, page);
    }

    /// <summary>The path of the next page: the same filters, and where to continue.</summary>
    public static string NextPath(IQueryCollection query, string next)
    {
        var parameters = query.Where(p => p.Key != "page").SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}"));
        return $"/{ApiRoutes.Prefix}/{ApiRoutes.Audit}?{string.Join("&", parameters.Append($"page={Uri.EscapeDataString(next)}"))}";
    }

    private static DateTimeOffset? Time(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        var text = query[name].FirstOrDefault();
        if (text is null) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)) return at;
        errors[name] = [$"a time in ISO 8601, e.g. 2026-01-31T12:00:00Z, not '{Shown(text)}'"];
        return null;
    }

    private static string Shown(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
