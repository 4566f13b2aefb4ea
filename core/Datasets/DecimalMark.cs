using System.Text.Json;
using System.Text.RegularExpressions;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// The spec's <c>decimalSeparator</c>, and how a file's numbers are read: with a decimal point (3.5), or with a decimal
/// comma (3,5), as spreadsheets write them in German, French and much of the world's other locales, with ';' between
/// the fields. A file is read with a point unless the spec names the comma, or the file is separated by ';' and its
/// numbers are written with decimal commas, or a previous version of the model's data was (<see cref="Infer"/>). Read
/// with a comma, a number may group its thousands by points or spaces ("1.234,5", "1 330,53"); read with a point, never.
/// </summary>
public static partial class DecimalMark
{
    public const char Point = '.';
    public const char Comma = ',';

    /// <summary>The spec's field, as a spec writes it.</summary>
    public static readonly string Field = JsonNamingPolicy.CamelCase.ConvertName(nameof(ModelSpec.DecimalSeparator));

    /// <summary>The mark a spec names; null when it names none (or one <see cref="Problem"/> refuses).</summary>
    public static char? Of(ModelSpec spec) => spec.DecimalSeparator is [var c and (Point or Comma)] ? c : null;

    /// <summary>What is wrong with a spec's value, or null when it is "." or ",".</summary>
    public static string? Problem(string value) => value is [Point or Comma]
        ? null
        : $"\"{Point}\" (numbers written 3.5) or \"{Comma}\" (numbers written 3,5, as spreadsheets in German or French write them); " +
          $"leave it out to read a decimal point, or a decimal comma in a file separated by semicolons whose numbers are all written so";

    /// <summary>The setting as a spec writes it, for advice: <c>"decimalSeparator": ","</c>.</summary>
    public static string Setting(char mark) => $"\"{Field}\": \"{mark}\"";

    /// <summary>
    /// The mark of a file's numbers: the spec's, else, for a file separated by ';', a point where some value of the rows
    /// sniffed is a number written with a decimal point ("3.5", "12.34"; not "11.463", which may be a thousand grouped by a
    /// point), else a comma where some value is a number written with a decimal comma that reads one way only
    /// (<see cref="IsCommaEvidence"/>: "78,5", "245000,50", "1.234,5", "1 330,53"; not "1,234", which may be a thousand),
    /// else the mark the model's previous dataset version (<paramref name="prior"/>) was read with; else a point.
    /// </summary>
    public static MarkInference Infer(ModelSpec spec, char delimiter, IEnumerable<IReadOnlyList<string>> rows, DatasetManifest? prior)
    {
        if (Of(spec) is { } given) return new MarkInference(given, null, null, null);
        if (delimiter != ';') return new MarkInference(Point, null, null, null);
        string? point = null, comma = null;
        foreach (var row in rows)
        {
            foreach (var field in row)
            {
                var value = field.Trim();
                if (point is null && value.Contains(Point) && !PointGrouped().IsMatch(value) && CellValues.TryNumber(value, out _)) point = value;
                if (comma is null && IsCommaEvidence(value)) comma = value;
            }
        }
        return point is not null ? new MarkInference(Point, comma, point, null)
            : comma is not null ? new MarkInference(Comma, comma, null, null)
            : prior?.Schema.DecimalSeparator == Comma ? new MarkInference(Comma, null, null, prior.Version)
            : new MarkInference(Point, null, null, null);
    }

    /// <summary>
    /// A number written with a decimal comma and nothing else, that cannot be a thousand grouped by a comma ("1,234"); or
    /// one whose thousands are grouped by points or spaces ("1.234,5", "1 330,53"), whose comma is a decimal one.
    /// </summary>
    private static bool IsCommaEvidence(string value) =>
        (DecimalComma().IsMatch(value) && !CommaGrouped().IsMatch(value)) || (GroupedDecimalComma().IsMatch(value) && CellValues.TryNumber(value.AsSpan(), Comma, out _));

    [GeneratedRegex(@"^[+-]?\d+,\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalComma();

    [GeneratedRegex(@"^[+-]?[1-9]\d{0,2},\d{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex CommaGrouped();

    /// <summary>A whole number whose thousands may be grouped by points ("11.463", "1.234.567"), or that may be a decimal: it decides nothing.</summary>
    [GeneratedRegex(@"^[+-]?[1-9]\d{0,2}(\.\d{3})+$", RegexOptions.CultureInvariant)]
    private static partial Regex PointGrouped();

    /// <summary>Thousands grouped by points or spaces, then a decimal comma (checked further by the reader).</summary>
    [GeneratedRegex(@"^[+-]?[1-9]\d{0,2}[. \u00A0\u202F]\d{3}.*,\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex GroupedDecimalComma();

    /// <summary>How a number may be sent in JSON to a model whose data was read with a decimal comma, for predict's and feedback's messages.</summary>
    public static string JsonNumbers(char mark) => $"a JSON number, or a string written with a decimal comma, 3{mark}5, as this model's data writes numbers";

    /// <summary>How a file read with <paramref name="reading"/>'s mark says so in the dataset version's notes (null: a point, with nothing to say).</summary>
    public static string? Note(ModelSpec spec, MarkInference reading) => reading switch
    {
        { Mark: Comma } when Of(spec) is not null => $"numbers: read with a decimal comma (the spec's {Setting(Comma)}) and written with a decimal point in the dataset (3,5 as 3.5)",
        { Mark: Comma, CommaExample: { } example } =>
            $"numbers: read with a decimal comma, as the file is separated by semicolons and writes its numbers so (such as '{CellValues.Escape(example)}'), none with a decimal point; " +
            $"they are written with a decimal point in the dataset (3,5 as 3.5), and thousands may be grouped by points or spaces (1.234,5 or 1 234,5). " +
            $"Values with a decimal point (3.5) are not numbers then; set {Setting(Point)} in the spec to read a decimal point",
        { Mark: Comma, PriorVersion: { } version } =>
            $"numbers: read with a decimal comma, as the previous dataset version {version} was, the file being separated by semicolons and its first lines holding no number " +
            $"written with a decimal point; they are written with a decimal point in the dataset (3,5 as 3.5). Set {Setting(Point)} in the spec to read a decimal point",
        { Mark: Point, PointExample: { } point, CommaExample: { } comma } when Of(spec) is null =>
            $"numbers: read with a decimal point, as '{CellValues.Escape(point)}' is written with one, though values such as '{CellValues.Escape(comma)}' look like numbers " +
            $"written with a decimal comma; set {Setting(Comma)} in the spec if the file writes its numbers so, and write every number with a decimal comma",
        _ => null,
    };
}

/// <summary>
/// The mark a file's numbers are read with (<see cref="DecimalMark.Infer"/>), and what decided it: the first value of the
/// rows sniffed written with a decimal comma, the first written with a decimal point, or the previous dataset version
/// read with a comma.
/// </summary>
public readonly record struct MarkInference(char Mark, string? CommaExample, string? PointExample, string? PriorVersion);
