using System.Globalization;

namespace Serverless.Core.Datasets;

/// <summary>What the sniffer decided about a delimited text file.</summary>
public sealed record CsvDialect(char Delimiter, bool HasHeader);

/// <summary>Guesses the delimiter (comma, semicolon, tab, pipe) and whether the first row is a header, from the file's start.</summary>
public static class CsvSniffer
{
    /// <summary>The delimiters a file may use, in the order a tie between them is settled.</summary>
    internal static readonly char[] Candidates = [',', ';', '\t', '|'];

    /// <summary>
    /// The delimiter an Excel "sep=;" first line declares, or null when the line is not one. Excel writes the line so that
    /// the file opens split by that delimiter whatever the reader's locale; it holds no data, so it is skipped.
    /// </summary>
    public static char? DeclaredDelimiter(string firstLine)
    {
        var line = firstLine.TrimEnd(' ');
        return line.Length == 5 && line.StartsWith("sep=", StringComparison.OrdinalIgnoreCase) && Candidates.Contains(line[4]) ? line[4] : null;
    }

    /// <summary>The delimiter whose field count is the most consistent (and largest) over the first lines; null when no candidate splits them.</summary>
    public static char? Delimiter(IReadOnlyList<string> lines)
    {
        char? best = null;
        var bestScore = 0.0;
        foreach (var candidate in Candidates)
        {
            var counts = lines.Select(l => Split(l, candidate).Count).ToList();
            if (counts.Count == 0) continue;
            var mode = counts.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First();
            if (mode.Key < 2) continue;
            var score = mode.Count() / (double)counts.Count * 1000 + mode.Key;
            if (score > bestScore)
            {
                bestScore = score;
                best = candidate;
            }
        }
        return best;
    }

    /// <summary>
    /// A first row is a header when none of its fields is a number while some column below it is numeric, or, for an
    /// all-text file, when its values are distinct and none of them appears again in the rows sniffed. Numbers are
    /// counted as written in any notation (<see cref="LooksLikeNumber"/>): "245000,50" is no column's name, whatever
    /// decimal mark the file is then read with. Rows that repeat the first one field for field (the header again, where
    /// files were joined) are left out of both tests.
    /// </summary>
    public static bool HasHeader(IReadOnlyList<IReadOnlyList<string>> rows)
    {
        if (rows.Count == 0) return false;
        var first = rows[0];
        if (first.Any(LooksLikeNumber)) return false;
        var body = rows.Skip(1).Where(r => !r.SequenceEqual(first, StringComparer.Ordinal)).ToList();
        if (body.Count == 0) return true;
        for (var c = 0; c < first.Count; c++)
        {
            var values = body.Where(r => c < r.Count && r[c].Trim().Length > 0).Select(r => r[c]).ToList();
            if (values.Count > 0 && values.All(LooksLikeNumber)) return true;
        }
        if (first.Distinct(StringComparer.Ordinal).Count() != first.Count) return false;
        return !body.Any(r => r.Any(f => first.Contains(f.Trim())));
    }

    public static bool IsNumber(string text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>A number, or one written for people (a decimal comma, thousands separators, a percent or currency sign: <see cref="CellValues.NumberWrittenAs"/>).</summary>
    public static bool LooksLikeNumber(string text) => IsNumber(text) || CellValues.NumberWrittenAs(text) != NumberForms.None;

    /// <summary>Splits one physical line, honouring double quotes; used only for sniffing.</summary>
    public static List<string> Split(string line, char delimiter)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else current.Append(c);
            }
            else if (c == '"' && current.ToString().Trim().Length == 0) { current.Clear(); quoted = true; }
            else if (c == delimiter) { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(c);
        }
        fields.Add(current.ToString());
        return fields;
    }
}
