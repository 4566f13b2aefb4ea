using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Core.Serving;

/// <summary>
/// Reads request rows (JSON objects) straight into a model's input columns, checked against the model's schema. A JSON
/// value is read as the cell it would be in an uploaded file (a string as its text, a number as its digits, true/false
/// as those words, null as an empty cell) by <see cref="CellValues"/>, the reading ingestion uses, so "NA", "" and null
/// are missing and "yes"/"no" are booleans at predict exactly as at training.
/// <list type="bullet">
/// <item>A field the model does not know: 400 naming it. The label, excluded, sensitive and other non-feature columns are accepted and ignored.</item>
/// <item>A missing feature (absent, null, or a missing-value token): filled in by the model's featurization where it handles missing values
/// (numbers: the training mean; categories: no category; text: no words; dates: each part's mean), and named in the row's <c>imputed</c>; a missing boolean is a 400.</item>
/// <item>A category the model never saw in training: scored as no category, as the model's encoding does, and named in the row's <c>unseenCategories</c>.</item>
/// <item>A value of the wrong type: 400 naming the field and the row.</item>
/// </list>
/// </summary>
internal sealed class PredictionInput
{
    /// <summary>At most this many problems are named in one answer.</summary>
    public const int MaxErrors = 50;

    private readonly Dictionary<string, int> _fields;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _fieldsBySpan;
    private readonly string[] _names;
    private readonly ColumnKind[] _kinds;
    private readonly string _featureList;
    // The decimal mark the model's data was read with: a number sent as a string is read with it, as ingestion read the file.
    private readonly char _mark;
    // Per input column, the categories the model knows (null: not a one-hot encoded category).
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>>?[] _known;

    public PredictionInput(DatasetSchema schema, DataViewSchema inputSchema, IReadOnlyDictionary<string, HashSet<string>> knownCategories)
    {
        _names = [.. inputSchema.Select(c => c.Name)];
        _kinds = [.. _names.Select(n => schema.Column(n).Kind)];
        _fields = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var column in schema.Columns) _fields[column.Name] = -1;
        for (var i = 0; i < _names.Length; i++) _fields[_names[i]] = i;
        _fieldsBySpan = _fields.GetAlternateLookup<ReadOnlySpan<char>>();
        _featureList = string.Join(", ", _names);
        _mark = schema.DecimalSeparator;
        _known = [.. _names.Select(n => knownCategories.TryGetValue(n, out var known) ? known.GetAlternateLookup<ReadOnlySpan<char>>() : (HashSet<string>.AlternateLookup<ReadOnlySpan<char>>?)null)];
    }

    /// <summary>The kinds of the input columns, in input-schema order.</summary>
    public IReadOnlyList<ColumnKind> Kinds => _kinds;

    /// <param name="into">An input of as many rows to read into (every cell and each row's lists are overwritten), or null for a new one.</param>
    public ModelInput Read(IReadOnlyList<JsonElement> rows, ModelInput? into = null)
    {
        if (into is not null && into.Count != rows.Count) throw new ArgumentException($"The input holds {into.Count} rows, not {rows.Count}.", nameof(into));
        var input = into ?? new ModelInput(_kinds, rows.Count);
        Span<bool> seen = _names.Length <= 256 ? stackalloc bool[_names.Length] : new bool[_names.Length];
        Dictionary<string, string[]>? errors = null;
        var problems = 0;
        void Problem(int row, string field, string problem)
        {
            problems++;
            errors ??= new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (errors.Count < MaxErrors) errors[$"rows[{row}].{PredictionRequest.Truncate(field)}"] = [problem];
        }

        for (var r = 0; r < rows.Count; r++)
        {
            seen.Clear();
            List<string>? unseen = null;
            foreach (var property in rows[r].EnumerateObject())
            {
                if (!TryFindField(property, out var c))
                {
                    Problem(r, property.Name, UnknownField(property.Name));
                    continue;
                }
                if (c < 0) continue;
                if (seen[c])
                {
                    Problem(r, property.Name, "given more than once");
                    continue;
                }
                seen[c] = true;
                switch (Read(c, property.Value, input, r, out var problem))
                {
                    case CellReading.Missing:
                        seen[c] = false;
                        break;
                    case CellReading.Invalid:
                        Problem(r, property.Name, problem!);
                        break;
                    case CellReading.Value when _known[c] is { } known && !known.Contains(input.Texts[c]![r].Span):
                        (unseen ??= []).Add(_names[c]);
                        break;
                }
            }
            List<string>? imputed = null;
            for (var c = 0; c < _names.Length; c++)
            {
                if (seen[c]) continue;
                SetMissing(c, input, r);
                (imputed ??= []).Add(_names[c]);
            }
            input.Imputed[r] = imputed;
            input.Unseen[r] = unseen;
        }
        if (errors is not null)
        {
            // The detail shows the first few; errors holds up to its cap; the count is of every problem found.
            const int shown = 5;
            var more = problems > shown ? $"; and {problems - shown} more ({(errors.Count == problems ? "all" : $"{errors.Count} of the {problems}")} in 'errors')" : "";
            throw new BadRequestException(
                $"{problems} field(s) of the request do not fit the model: {string.Join("; ", errors.Take(shown).Select(e => $"{e.Key}: {e.Value[0]}"))}{more}.",
                errors);
        }
        return input;
    }

    /// <summary>The input column of a field (-1: accepted and ignored), looked up by its UTF-8 name without making a string of it.</summary>
    private bool TryFindField(JsonProperty property, out int column)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.Length > 256 || raw.Contains((byte)'\\')) return _fields.TryGetValue(property.Name, out column);
        Span<char> name = stackalloc char[256];
        return _fieldsBySpan.TryGetValue(name[..Encoding.UTF8.GetChars(raw, name)], out column);
    }

    private CellReading Read(int c, JsonElement value, ModelInput input, int row, out string? problem)
    {
        problem = null;
        var kind = _kinds[c];
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return CellReading.Missing;
            case JsonValueKind.Object or JsonValueKind.Array:
                problem = $"expected {Expected(kind)}, got {Describe(value)}";
                return CellReading.Invalid;
        }
        CellReading reading;
        switch (kind)
        {
            case ColumnKind.Numeric:
            {
                // A JSON number's digits are read as UTF-8, without making a string of them.
                reading = value.ValueKind == JsonValueKind.Number
                    ? CellValues.ReadNumber(JsonMarshal.GetRawUtf8Value(value), out var number)
                    : CellValues.ReadNumber(CellText(value), _mark, out number);
                if (reading != CellReading.Value) break;
                if (!CellValues.IsModelFinite(number))
                {
                    // The model's features are 32-bit floats: a larger magnitude would reach it as infinity.
                    problem = double.IsFinite(number)
                        ? $"expected a number of {CellValues.ModelFiniteLimit}, got {Describe(value)}"
                        : $"expected a finite number, got {Describe(value)}";
                    return CellReading.Invalid;
                }
                input.Singles[c]![row] = (float)number;
                break;
            }
            case ColumnKind.Boolean:
                reading = CellValues.ReadBoolean(CellText(value), out var flag);
                if (reading == CellReading.Value) input.Booleans[c]![row] = flag;
                break;
            default:
                var text = CellText(value);
                reading = CellValues.ReadText(text);
                // A date the training reader could not have read would reach the model as a missing one: refused instead.
                if (reading == CellReading.Value && kind == ColumnKind.DateTime && !CellValues.TryDate(text, out _)) reading = CellReading.Invalid;
                if (reading == CellReading.Value) input.Texts[c]![row] = text.AsMemory();
                break;
        }
        if (reading == CellReading.Invalid) problem = $"expected {Expected(kind)}, got {Describe(value)}";
        return reading;
    }

    /// <summary>A JSON scalar (never null, an object or an array here) as the cell it would be in an uploaded file.</summary>
    private static string CellText(JsonElement value) => CellValues.TextOf(value)!;

    private string Expected(ColumnKind kind) => kind switch
    {
        ColumnKind.Numeric when _mark != DecimalMark.Point => $"a number ({DecimalMark.JsonNumbers(_mark)})",
        ColumnKind.Numeric => "a number",
        ColumnKind.Boolean => "true or false (also yes/no, t/f, y/n, 1/0)",
        ColumnKind.DateTime => "a date or date and time (such as 2026-11-27 or 2026-11-27T14:05:00Z)",
        _ => "a string",
    };

    /// <summary>The value the training loader gives a missing cell of the column: NaN for a number, empty text otherwise.</summary>
    private void SetMissing(int c, ModelInput input, int row)
    {
        switch (_kinds[c])
        {
            case ColumnKind.Numeric: input.Singles[c]![row] = float.NaN; break;
            // As training read it: ML.NET's loader reads an empty boolean of the data file as false.
            case ColumnKind.Boolean: input.Booleans[c]![row] = false; break;
            default: input.Texts[c]![row] = ReadOnlyMemory<char>.Empty; break;
        }
    }

    private string UnknownField(string name)
    {
        var near = _names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        return near is not null
            ? $"unknown field; did you mean '{near}'? (names are case-sensitive)"
            : $"unknown field; the model takes {_featureList}";
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{PredictionRequest.Truncate(value.GetString() ?? "")}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => PredictionRequest.Truncate(value.GetRawText()),
    };
}
