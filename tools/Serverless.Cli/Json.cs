using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Core.Storage;
using Serverless.Core.Training;

namespace Serverless.Cli;

/// <summary>Reading the API's JSON answers, whichever of their tidied forms a host gives (details as text or object, versions as "v1" or 1).</summary>
public static class Json
{
    public static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value => value.ToJsonString(),
        _ => node.ToJsonString(),
    };

    public static double? Number(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<double>(out var number) ? number : null;

    /// <summary>An audit record's details: an object, or a JSON object kept as text.</summary>
    public static JsonObject? Details(JsonNode? node)
    {
        if (node is JsonObject obj) return obj;
        if (Text(node) is not { Length: > 0 } text) return null;
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Details as one line: <c>key: value · key: value</c>.</summary>
    public static string DetailsLine(JsonNode? node) => Details(node) is { } details
        ? string.Join(" · ", details.Where(p => p.Value is not null).Select(p => $"{p.Key}: {Text(p.Value)}"))
        : Text(node) ?? "";

    /// <summary>A metric as the API gives it (already rounded there): rounding it again printed 2.885 for the 2.8855 the card shows as 2.886.</summary>
    public static string Metric(double? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "–";

    /// <summary>
    /// A version's test value of <paramref name="metric"/> from its entry in the model view, with the 95% bootstrap
    /// interval after it where the version has one of that metric: "0.9608 [0.9048, 1]".
    /// </summary>
    public static string TestValue(JsonNode? version, string metric)
    {
        var value = Metric(Number(version?["testMetrics"]?[metric]));
        var interval = version?["testInterval"]?.Deserialize<MetricInterval>(JsonBlobs.Options);
        return interval?.Metric == metric ? $"{value} {interval.Bracketed()}" : value;
    }

    /// <summary>
    /// A dataset version's inferred notes (its schema's <c>inferred</c>, in the model view or the datasets list) as the
    /// command line prints them, one line each: <c>  inferred: …</c>. <c>mlops show</c> and <c>mlops upload --wait</c>
    /// print them alike, so a note such as a decimal comma read as categories is seen where the upload is followed.
    /// </summary>
    public static IEnumerable<string> InferredLines(JsonNode? dataset) =>
        (dataset?["inferred"]?.AsArray() ?? []).Select(note => $"  inferred: {Text(note)}");

    public static string When(JsonNode? node) =>
        DateTimeOffset.TryParse(Text(node), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : Text(node) ?? "–";

    public static DateTimeOffset? Time(JsonNode? node) =>
        DateTimeOffset.TryParse(Text(node), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
}
