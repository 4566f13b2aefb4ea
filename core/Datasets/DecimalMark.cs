using System.Text.Json;
using System.Text.RegularExpressions;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// The spec's <c>decimalSeparator</c>, and how a file's numbers are read: with a decimal point (3.5), or with a decimal
/// comma (3,5), as spreadsheets write them in German, French and much of the world's other locales, with ';' between
/// the fields. A file is read with a point unless the spec names the comma, or the file is separated by ';' and its
/// numbers are written with decimal commas (<see cref="Infer"/>). Thousands separators are never read, with either mark.
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
    /// The mark of a file's numbers: the spec's, else a comma for a file separated by ';' where some value of the rows
    /// sniffed is a number written with a decimal comma that reads one way only (<see cref="IsPlainDecimalComma"/>: "78,5",
    /// "245000,50", not "1,234", which may be a thousand) and none reads as a number with a point ("3.5", nor "1.234",
    /// which may be a thousand); else a point. <paramref name="example"/>: the value that decided a comma.
    /// </summary>
    public static char Infer(ModelSpec spec, char delimiter, IEnumerable<IReadOnlyList<string>> rows, out string? example)
    {
        example = null;
        if (Of(spec) is { } given) return given;
        if (delimiter != ';') return Point;
        foreach (var row in rows)
        {
            foreach (var field in row)
            {
                var value = field.Trim();
                if (value.Contains(Point) && CellValues.TryNumber(value, out _)) return Point;
                if (example is null && IsPlainDecimalComma(value)) example = value;
            }
        }
        return example is null ? Point : Comma;
    }

    /// <summary>A number written with a decimal comma and nothing else, that cannot be a thousand grouped by a comma ("1,234").</summary>
    private static bool IsPlainDecimalComma(string value) => DecimalComma().IsMatch(value) && !CommaGrouped().IsMatch(value);

    [GeneratedRegex(@"^[+-]?\d+,\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalComma();

    [GeneratedRegex(@"^[+-]?[1-9]\d{0,2},\d{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex CommaGrouped();

    /// <summary>How a file read with <paramref name="mark"/> says so in the dataset version's notes.</summary>
    public static string? Note(ModelSpec spec, char mark, string? example) =>
        Of(spec) is not null && mark == Comma ? $"numbers: read with a decimal comma (the spec's {Setting(Comma)}) and written with a decimal point in the dataset (3,5 as 3.5)"
        : example is not null ? $"numbers: read with a decimal comma, as the file is separated by semicolons and writes its numbers so (such as '{CellValues.Escape(example)}'), none with a decimal point; " +
                                $"they are written with a decimal point in the dataset (3,5 as 3.5). Values with a point or thousands separators (1.234,5) are not numbers then; set {Setting(Point)} in the spec to read a decimal point"
        : null;
}
