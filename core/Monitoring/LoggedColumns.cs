using System.Globalization;
using System.Text;
using System.Text.Json;
using Serverless.Core.Datasets;

namespace Serverless.Core.Monitoring;

/// <summary>
/// Logged rows as columns, read straight from their JSON lines: each row's answering version and answer (score, label),
/// and the text of each input field asked for, as <see cref="CellValues.TextOf"/> gives it (null where the row has no
/// value: missing, null, or an object or array; a field given twice gives its last value). A drift check compares only
/// these, so its 100,000 sampled rows cost a few arrays instead of a parsed document and a record each.
/// </summary>
public sealed class LoggedColumns
{
    private readonly Dictionary<string, int> _index;

    private LoggedColumns(IReadOnlyList<string> fields, int capacity)
    {
        Fields = fields;
        _index = fields.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i, StringComparer.Ordinal);
        Values = [.. fields.Select(_ => new List<string?>(capacity))];
        Strings = [.. fields.Select(_ => new List<bool>(capacity))];
    }

    /// <summary>The input fields read, in the order asked.</summary>
    public IReadOnlyList<string> Fields { get; }

    /// <summary>The version that answered each row.</summary>
    public List<string> Versions { get; } = [];

    /// <summary>Each row's score (regression, binary), or null.</summary>
    public List<float?> Scores { get; } = [];

    /// <summary>Each row's label (classification), or null.</summary>
    public List<string?> Labels { get; } = [];

    /// <summary>Per field of <see cref="Fields"/>, each row's text of it.</summary>
    public IReadOnlyList<List<string?>> Values { get; }

    /// <summary>
    /// Per field of <see cref="Fields"/>, whether each row's value was sent as a JSON string: predict read a number so
    /// sent with the decimal mark of the model's data ("11.463" is 11463 there), a JSON number with a point.
    /// </summary>
    public IReadOnlyList<List<bool>> Strings { get; }

    public int Count => Versions.Count;

    /// <summary>The text of <paramref name="field"/> in each row (a field not asked for: none).</summary>
    public IReadOnlyList<string?> Of(string field) => _index.TryGetValue(field, out var i) ? Values[i] : [];

    /// <summary>Whether each row's <paramref name="field"/> was sent as a JSON string (a field not asked for: none).</summary>
    public IReadOnlyList<bool> StringsOf(string field) => _index.TryGetValue(field, out var i) ? Strings[i] : [];

    /// <summary>The columns of <paramref name="lines"/> (log lines, in order); a line that is not an entry is left out.</summary>
    public static LoggedColumns Read(IReadOnlyCollection<byte[]> lines, IReadOnlyList<string> fields)
    {
        var columns = new LoggedColumns(fields, lines.Count);
        var names = columns._index.GetAlternateLookup<ReadOnlySpan<char>>();
        var row = new string?[fields.Count];
        var strings = new bool[fields.Count];
        foreach (var line in lines)
        {
            Array.Clear(row);
            Array.Clear(strings);
            if (!TryRead(line, names, row, strings, columns.Versions.Count > 0 ? columns.Versions[^1] : null, out var version, out var score, out var label)) continue;
            columns.Versions.Add(version);
            columns.Scores.Add(score);
            columns.Labels.Add(label);
            for (var i = 0; i < row.Length; i++)
            {
                columns.Values[i].Add(row[i]);
                columns.Strings[i].Add(strings[i]);
            }
        }
        return columns;
    }

    /// <summary>One line's version, answer and asked fields; false when it is not an entry (no version or answer, or not JSON).</summary>
    private static bool TryRead(ReadOnlySpan<byte> line, Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> names, string?[] row, bool[] strings, string? previousVersion,
        out string version, out float? score, out string? label)
    {
        (version, score, label) = (null!, null, null);
        var hasOutput = false;
        var reader = new Utf8JsonReader(line);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(PredictionLogEncoder.ModelVersionName.EncodedUtf8Bytes))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String) return false;
                    // Most rows share their version: the previous row's string is kept rather than a copy per row.
                    version = previousVersion is not null && reader.ValueTextEquals(previousVersion) ? previousVersion : reader.GetString()!;
                }
                else if (reader.ValueTextEquals(PredictionLogEncoder.InputsName.EncodedUtf8Bytes))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
                    ReadInputs(ref reader, names, row, strings);
                }
                else if (reader.ValueTextEquals(PredictionLogEncoder.OutputName.EncodedUtf8Bytes))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
                    (score, label) = ReadOutput(ref reader);
                    hasOutput = true;
                }
                else if (!reader.Read() || !reader.TrySkip())
                {
                    return false;
                }
            }
            return version is not null && hasOutput && reader.TokenType == JsonTokenType.EndObject;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    private static void ReadInputs(ref Utf8JsonReader reader, Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> names, string?[] row, bool[] strings)
    {
        Span<char> name = stackalloc char[128];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var index = -1;
            if (reader.ValueSpan.Length <= name.Length && !reader.ValueIsEscaped)
            {
                var length = Encoding.UTF8.GetChars(reader.ValueSpan, name);
                if (names.TryGetValue(name[..length], out var i)) index = i;
            }
            else if (names.TryGetValue(reader.GetString()!, out var i))
            {
                index = i;
            }
            reader.Read();
            string? text = reader.TokenType switch
            {
                JsonTokenType.String => index >= 0 ? reader.GetString()!.Trim() : null,
                JsonTokenType.Number => index >= 0 ? Encoding.UTF8.GetString(reader.ValueSpan) : null,
                JsonTokenType.True => "true",
                JsonTokenType.False => "false",
                _ => null,
            };
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
            if (index < 0) continue;
            row[index] = text;
            strings[index] = reader.TokenType == JsonTokenType.String;
        }
    }

    private static (float? Score, string? Label) ReadOutput(ref Utf8JsonReader reader)
    {
        float? score = null;
        string? label = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(PredictionLogEncoder.ScoreName.EncodedUtf8Bytes))
            {
                reader.Read();
                score = reader.TokenType == JsonTokenType.Number ? reader.GetSingle()
                    : reader.TokenType == JsonTokenType.String ? float.Parse(reader.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture)
                    : null;
            }
            else if (reader.ValueTextEquals(PredictionLogEncoder.LabelName.EncodedUtf8Bytes))
            {
                reader.Read();
                label = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return (score, label);
    }
}
