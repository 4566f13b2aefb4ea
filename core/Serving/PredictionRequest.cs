using System.Text.Json;
using Serverless.Core.Api;

namespace Serverless.Core.Serving;

/// <summary>The shape of a prediction request's body: one JSON object (one row), or <c>{"rows": [...]}</c> of objects.</summary>
internal static class PredictionRequest
{
    public const string RowsProperty = "rows";

    /// <summary>The rows of the body, checked for shape and count (at most <paramref name="maxRows"/>, else 413).</summary>
    public static IReadOnlyList<JsonElement> Rows(JsonElement body, int maxRows)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new BadRequestException($"The body must be a JSON object (one row) or {{\"rows\": [...]}}, not {body.ValueKind.ToString().ToLowerInvariant()}.",
                new Dictionary<string, string[]> { ["body"] = ["must be an object"] });
        }
        if (!body.TryGetProperty(RowsProperty, out var rows)) return [body];
        if (rows.ValueKind != JsonValueKind.Array)
        {
            throw new BadRequestException("'rows' must be an array of objects, one per row.", new Dictionary<string, string[]> { [RowsProperty] = ["must be an array of objects"] });
        }
        var given = 0;
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name == RowsProperty && ++given == 2)
            {
                // The parser keeps the last of the two: which was meant cannot be told, as for a field given twice in a row.
                throw new BadRequestException("'rows' is given twice; give it once, with every row in it.", new Dictionary<string, string[]> { [RowsProperty] = ["given twice; give it once"] });
            }
            if (property.Name != RowsProperty)
            {
                throw new BadRequestException($"A body with 'rows' holds nothing else; '{Truncate(property.Name)}' does not belong there (put fields inside each row).",
                    new Dictionary<string, string[]> { [Truncate(property.Name)] = ["unknown field beside 'rows'"] });
            }
        }
        var count = rows.GetArrayLength();
        if (count == 0) throw new BadRequestException("'rows' is empty; send at least one row.", new Dictionary<string, string[]> { [RowsProperty] = ["empty"] });
        if (count > maxRows)
        {
            throw new PayloadTooLargeException($"The request holds {count} rows; the limit is {maxRows} rows per request. Split it into requests of at most {maxRows} rows.");
        }
        var list = new JsonElement[count];
        var errors = new Dictionary<string, string[]>();
        var i = 0;
        foreach (var row in rows.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Object && errors.Count < PredictionInput.MaxErrors) errors[$"rows[{i}]"] = [$"must be an object, not {row.ValueKind.ToString().ToLowerInvariant()}"];
            list[i++] = row;
        }
        if (errors.Count > 0) throw new BadRequestException($"Every row must be a JSON object; {string.Join(", ", errors.Keys)} {(errors.Count == 1 ? "is" : "are")} not.", errors);
        return list;
    }

    internal static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
