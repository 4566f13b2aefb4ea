using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// The one reading of a cell's text, shared by ingestion (CSV cells, as UTF-16 or UTF-8 with the same answers) and
/// serving (JSON values, read as the cell they would be in an uploaded file): missing-value tokens, numbers, booleans,
/// dates, and the value a column of a known kind holds. Training and serving cannot read a value differently when both
/// ask here.
/// </summary>
public static partial class CellValues
{
    public static bool IsMissing(string value) => IsMissing(value.AsSpan());

    /// <summary>Empty, "?", "NA", "N/A", "null", "NaN" or "none", in any case.</summary>
    public static bool IsMissing(ReadOnlySpan<char> value) => value.Length switch
    {
        0 => true,
        1 => value[0] == '?',
        2 => value.Equals("NA", StringComparison.OrdinalIgnoreCase),
        3 => value.Equals("N/A", StringComparison.OrdinalIgnoreCase) || value.Equals("NaN", StringComparison.OrdinalIgnoreCase),
        4 => value.Equals("null", StringComparison.OrdinalIgnoreCase) || value.Equals("none", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>The UTF-8 form of <see cref="IsMissing(ReadOnlySpan{char})"/>; no non-ASCII character folds to an ASCII letter, so bytes compare alike.</summary>
    public static bool IsMissing(ReadOnlySpan<byte> value)
    {
        if ((uint)(value.Length - 1) > 3) return value.IsEmpty;
        var first = value[0];
        if ((first | 0x20) != 'n') return first == (byte)'?' && value.Length == 1;
        return value.Length switch
        {
            2 => Ascii.EqualsIgnoreCase(value, "NA"u8),
            3 => Ascii.EqualsIgnoreCase(value, "N/A"u8) || Ascii.EqualsIgnoreCase(value, "NaN"u8),
            4 => Ascii.EqualsIgnoreCase(value, "null"u8) || Ascii.EqualsIgnoreCase(value, "none"u8),
            _ => false,
        };
    }

    public static bool TryNumber(string value, out double number) => TryNumber(value.AsSpan(), out number);

    /// <summary>
    /// How a value that is not a number was written as one for people, for advice: with a decimal comma ("17,5",
    /// "1.234,5"), with thousands separators ("86,087.05", "1,234,567", "1.234.567"), with a percent sign ("28.4%") or a
    /// currency symbol ("$32.99", "€5", "5,00 €"); <see cref="NumberForms.None"/> for a number and for anything else. The
    /// file is read with a decimal point and nothing around the digits, whatever the culture it was written in, so each
    /// form needs its own advice: telling "86,087.05" to use a decimal point would be wrong. "1,234" reads both ways and
    /// is both forms. The one detection, for the notes of inference and the messages of rejection alike.
    /// </summary>
    public static NumberForms NumberWrittenAs(string value)
    {
        var text = value.Trim();
        if (TryNumber(text, out _)) return NumberForms.None;
        var forms = WithoutSymbol(ref text);
        if (forms != NumberForms.None && text.Length > 0 && TryNumber(text, out var plain) && double.IsFinite(plain)) return forms;
        if (DecimalCommaNumber().IsMatch(text)) forms |= NumberForms.DecimalComma;
        if (GroupedNumber().IsMatch(text)) forms |= NumberForms.ThousandsSeparators;
        return (forms & (NumberForms.DecimalComma | NumberForms.ThousandsSeparators)) == 0 ? NumberForms.None : forms;
    }

    /// <summary>A trimmed value without its percent sign or currency symbol, and which it had (<see cref="NumberForms.None"/>: neither).</summary>
    private static NumberForms WithoutSymbol(ref string text)
    {
        if (text.EndsWith('%'))
        {
            text = text[..^1].TrimEnd();
            return NumberForms.Percent;
        }
        // A sign may come before the symbol ("-$5") or after it ("$-5").
        var sign = text.StartsWith('-') || text.StartsWith('+') ? text[..1] : "";
        if (text.Length > sign.Length && char.GetUnicodeCategory(text[sign.Length]) == UnicodeCategory.CurrencySymbol)
        {
            text = sign + text[(sign.Length + 1)..].TrimStart();
            return NumberForms.Currency;
        }
        if (text.Length > 0 && char.GetUnicodeCategory(text[^1]) == UnicodeCategory.CurrencySymbol)
        {
            text = text[..^1].TrimEnd();
            return NumberForms.Currency;
        }
        return NumberForms.None;
    }

    /// <summary>
    /// <see cref="NumberWrittenAs(string)"/> for a file read with <paramref name="mark"/> (<see cref="DecimalMark"/>): read
    /// with a decimal comma, a value is no number when written with a decimal point ("3.5", or "86,087.05" with commas
    /// between the thousands: <see cref="NumberForms.DecimalPoint"/>), with thousands grouped other than by threes
    /// ("12.34,5"), or with a percent sign or a currency symbol around a number written either way ("17,3 %"); a decimal
    /// comma, and thousands grouped by points or spaces ("1.234,5"), are none of these forms, and a date written day
    /// first ("13.04.2024") is no number.
    /// </summary>
    public static NumberForms NumberWrittenAs(string value, char mark)
    {
        if (mark == DecimalMark.Point) return NumberWrittenAs(value);
        var text = value.Trim();
        if (TryNumber(text, mark, out _)) return NumberForms.None;
        if (TryNumber(text, out _) || PointGroupedByCommas().IsMatch(text)) return NumberForms.DecimalPoint;
        if (LooksLikeDayFirstDate(text)) return NumberForms.None;
        if (text.Contains(DecimalMark.Point) && TryNumber(text.Replace(DecimalMark.Point.ToString(), "", StringComparison.Ordinal), mark, out _)) return NumberForms.ThousandsSeparators;
        var forms = WithoutSymbol(ref text);
        return forms != NumberForms.None && text.Length > 0 && (TryNumber(text, mark, out var plain) || TryNumber(text, out plain)) && double.IsFinite(plain) ? forms : NumberForms.None;
    }

    /// <summary>A decimal point after thousands grouped by commas, as English writes numbers: "86,087.05".</summary>
    [GeneratedRegex(@"^[+-]?[1-9]\d{0,2}(,\d{3})+\.\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex PointGroupedByCommas();

    /// <summary>A decimal comma, after digits grouped by points or not: "17,5", "-0,25", "1.234,5".</summary>
    [GeneratedRegex(@"^[+-]?(\d+|\d{1,3}(\.\d{3})+),\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalCommaNumber();

    /// <summary>Thousands grouped by commas, with a decimal point or none ("86,087.05", "1,234"), or by points with none ("1.234.567").</summary>
    [GeneratedRegex(@"^[+-]?[1-9]\d{0,2}((,\d{3})+(\.\d+)?|(\.\d{3}){2,})$", RegexOptions.CultureInvariant)]
    private static partial Regex GroupedNumber();

    /// <summary>What values of <paramref name="forms"/> look like, in words: "numbers written with a decimal comma", "percentages".</summary>
    public static string NumberFormsInWords(NumberForms forms) =>
        forms.HasFlag(NumberForms.DecimalPoint) ? "numbers written with a decimal point, while the file's numbers are read with a decimal comma"
        : forms.HasFlag(NumberForms.Percent) ? "percentages"
        : forms.HasFlag(NumberForms.Currency) ? "amounts with a currency symbol"
        : (forms & (NumberForms.DecimalComma | NumberForms.ThousandsSeparators)) switch
        {
            NumberForms.DecimalComma => "numbers written with a decimal comma",
            NumberForms.ThousandsSeparators => "numbers written with thousands separators",
            _ => "numbers written with a decimal comma or with thousands separators",
        };

    /// <summary>
    /// How to write values of <paramref name="forms"/> for them to be read as numbers, e.g. "write numbers with a decimal
    /// point (5.0, not 5,0)", in a file read with <paramref name="mark"/>.
    /// </summary>
    public static string NumberFormsAdvice(NumberForms forms, char mark = DecimalMark.Point)
    {
        var advice = new List<string>();
        if (forms.HasFlag(NumberForms.DecimalPoint))
        {
            advice.Add($"write every number of the file with a decimal comma (5,0, not 5.0), or set {DecimalMark.Setting(DecimalMark.Point)} in the spec where it writes them all with a point");
        }
        if (forms.HasFlag(NumberForms.Percent))
        {
            advice.Add(mark == DecimalMark.Comma ? "write the number without the percent sign (28,4, or 0,284 as a share, not 28,4 %)" : "write the number without the percent sign (28.4, or 0.284 as a share, not 28.4%)");
        }
        if (forms.HasFlag(NumberForms.Currency))
        {
            advice.Add(mark == DecimalMark.Comma ? "write the amount without the currency symbol (32,99, not 32,99 €; a currency that varies goes in a column of its own)"
                : "write the amount without the currency symbol (32.99, not $32.99; a currency that varies goes in a column of its own)");
        }
        advice.Add((forms & (NumberForms.DecimalComma | NumberForms.ThousandsSeparators)) switch
        {
            NumberForms.None => "",
            NumberForms.DecimalComma => $"write numbers with a decimal point (5.0, not 5,0), or set {DecimalMark.Setting(DecimalMark.Comma)} in the spec where the file writes every number with a decimal comma",
            NumberForms.ThousandsSeparators when mark == DecimalMark.Comma => "write numbers without thousands separators, or with a point between every three digits of the whole part (1234,5 or 1.234,5, not 12.34,5)",
            NumberForms.ThousandsSeparators => "write numbers without thousands separators (86087.05, not 86,087.05)",
            _ => $"write numbers with a decimal point and without thousands separators (1234.5, not 1,234.5 or 1234,5), or set {DecimalMark.Setting(DecimalMark.Comma)} in the spec where every comma of the file's numbers is a decimal comma",
        });
        return string.Join(", and ", advice.Where(a => a.Length > 0));
    }

    /// <summary>
    /// Whether a number reaches a model as itself: ML.NET reads features and labels as 32-bit floats, so a magnitude
    /// beyond <see cref="float.MaxValue"/> (about 3.4e38) would arrive as infinity. Ingestion counts such values with the
    /// infinite ones, and predict refuses them.
    /// </summary>
    public static bool IsModelFinite(double number) => float.IsFinite((float)number);

    /// <summary>How <see cref="IsModelFinite"/>'s limit is stated in messages.</summary>
    public static readonly string ModelFiniteLimit = $"magnitude at most {float.MaxValue:0.#e+0} (models read 32-bit numbers)";

    private static readonly double[] PowersOfTen =
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>
    /// Parses a number in invariant culture. Plain decimals ("-12.50") take an exact fast path: with fewer than 16
    /// significant digits and at most 22 decimals the mantissa and the power of ten are exact doubles, so one
    /// multiplication or division rounds correctly (Clinger's fast path). Everything else (exponents, long mantissas,
    /// Infinity) goes to double.TryParse.
    /// </summary>
    public static bool TryNumber(ReadOnlySpan<char> value, out double number)
    {
        if (TryPlainDecimal(value, out number)) return true;
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>The UTF-8 form of <see cref="TryNumber(ReadOnlySpan{char}, out double)"/>, bit for bit the same result.</summary>
    public static bool TryNumber(ReadOnlySpan<byte> value, out double number)
    {
        if (TryPlainDecimal(value, out number)) return true;
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>
    /// Parses a number written with <paramref name="mark"/> (<see cref="DecimalMark"/>): with a point, as
    /// <see cref="TryNumber(ReadOnlySpan{char}, out double)"/>; with a comma, the number <see cref="TryPointForm"/> writes
    /// with a point ("3,5" is 3.5, "11.463" is 11463, "1 330,53" is 1330.53).
    /// </summary>
    public static bool TryNumber(ReadOnlySpan<char> value, char mark, out double number)
    {
        if (mark == DecimalMark.Point) return TryNumber(value, out number);
        number = 0;
        if (value.Length > 128) return false;
        value = value.Trim();
        Span<char> plain = stackalloc char[value.Length];
        return TryPointForm(value, plain, out var length) && TryNumber(plain[..length], out number);
    }

    /// <summary>The UTF-8 form of <see cref="TryNumber(ReadOnlySpan{char}, char, out double)"/>.</summary>
    public static bool TryNumber(ReadOnlySpan<byte> value, char mark, out double number)
    {
        if (mark == DecimalMark.Point) return TryNumber(value, out number);
        number = 0;
        if (value.Length > 128) return false;
        // No UTF-8 sequence makes more characters than bytes; a space written U+00A0 or U+202F takes two or three bytes.
        Span<char> chars = stackalloc char[value.Length];
        return TryNumber(chars[..Encoding.UTF8.GetChars(value, chars)], mark, out number);
    }

    /// <summary>The characters that group the thousands of a number written with a decimal comma: a point, a space, a no-break space (U+00A0) or a narrow one (U+202F), as French writes them.</summary>
    private static readonly SearchValues<char> GroupSeparators = SearchValues.Create(". \u00A0\u202F");

    /// <summary>
    /// A number written with a decimal comma, written with a point into <paramref name="into"/> (as long as the value at
    /// most): "3,5" as "3.5"; its thousands grouped by points or spaces ("11.463", "1.234.567,5", "1 330,53": a first group
    /// of one to three digits, not led by 0, then groups of three, with one separator a value) without them. False for a
    /// value holding a point or a space any other way ("3.5", "1.23", "0.123"), and for a comma with no digit before it
    /// (",5", "-,5"), which no ingestion reader takes for a number either.
    /// </summary>
    private static bool TryPointForm(ReadOnlySpan<char> value, Span<char> into, out int length)
    {
        length = 0;
        var comma = value.IndexOf(DecimalMark.Comma);
        var whole = comma < 0 ? value : value[..comma];
        var fraction = comma < 0 ? [] : value[(comma + 1)..];
        var sign = whole.Length > 0 && whole[0] is '+' or '-' ? 1 : 0;
        if (fraction.ContainsAny(GroupSeparators)) return false;
        var first = whole.IndexOfAny(GroupSeparators);
        if (first < 0)
        {
            if (comma == sign) return false;
            value.Replace(into, DecimalMark.Comma, DecimalMark.Point);
            length = value.Length;
            return true;
        }
        var separator = whole[first];
        if (first - sign is < 1 or > 3 || whole[sign] == '0' || !IsDigits(whole[sign..first])) return false;
        if ((whole.Length - first) % 4 != 0 || (comma >= 0 && (fraction.IsEmpty || !IsDigits(fraction)))) return false;
        whole[..first].CopyTo(into);
        length = first;
        for (var at = first; at < whole.Length; at += 4)
        {
            if (whole[at] != separator || !IsDigits(whole.Slice(at + 1, 3))) return false;
            whole.Slice(at + 1, 3).CopyTo(into[length..]);
            length += 3;
        }
        if (comma < 0) return true;
        into[length++] = DecimalMark.Point;
        fraction.CopyTo(into[length..]);
        length += fraction.Length;
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9');

    private static bool TryPlainDecimal<T>(ReadOnlySpan<T> value, out double number) where T : unmanaged, IBinaryInteger<T>
    {
        number = 0;
        if (value.IsEmpty) return false;
        var i = 0;
        var first = int.CreateTruncating(value[0]);
        var negative = first == '-';
        if (negative || first == '+') i = 1;
        var signLength = i;
        long mantissa = 0;
        int digits = 0, fraction = 0;
        var dot = false;
        for (; i < value.Length; i++)
        {
            var c = int.CreateTruncating(value[i]);
            if ((uint)(c - '0') <= 9)
            {
                if (digits == 15 || fraction == PowersOfTen.Length - 1) return false;
                mantissa = mantissa * 10 + (c - '0');
                if (mantissa != 0) digits++;
                if (dot) fraction++;
            }
            else if (c == '.' && !dot) dot = true;
            else return false;
        }
        if (i <= signLength + (dot ? 1 : 0)) return false;
        var result = fraction == 0 ? mantissa : mantissa / PowersOfTen[fraction];
        number = negative ? -result : result;
        return true;
    }

    public static bool TryBoolean(string value, out bool result) => TryBoolean(value.AsSpan(), out result);

    public static bool TryBoolean(ReadOnlySpan<char> value, out bool result)
    {
        result = false;
        if (value.Length > 5) return false;
        if (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("t", StringComparison.OrdinalIgnoreCase)
            || value.Equals("yes", StringComparison.OrdinalIgnoreCase) || value.Equals("y", StringComparison.OrdinalIgnoreCase))
        {
            result = true;
            return true;
        }
        return value.Equals("false", StringComparison.OrdinalIgnoreCase) || value.Equals("f", StringComparison.OrdinalIgnoreCase)
            || value.Equals("no", StringComparison.OrdinalIgnoreCase) || value.Equals("n", StringComparison.OrdinalIgnoreCase);
    }

    public static bool TryBoolean(ReadOnlySpan<byte> value, out bool result)
    {
        result = false;
        if (value.Length > 5) return false;
        if (Ascii.EqualsIgnoreCase(value, "true"u8) || Ascii.EqualsIgnoreCase(value, "t"u8)
            || Ascii.EqualsIgnoreCase(value, "yes"u8) || Ascii.EqualsIgnoreCase(value, "y"u8))
        {
            result = true;
            return true;
        }
        return Ascii.EqualsIgnoreCase(value, "false"u8) || Ascii.EqualsIgnoreCase(value, "f"u8)
            || Ascii.EqualsIgnoreCase(value, "no"u8) || Ascii.EqualsIgnoreCase(value, "n"u8);
    }

    public static bool TryDate(ReadOnlySpan<char> value, out DateTimeOffset date)
    {
        date = default;
        return value.Length >= 8 && value.Length <= 40 && (value.Contains('-') || value.Contains('/')) && char.IsDigit(value[0])
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date);
    }

    /// <summary>
    /// Whether a value that is not a date (<see cref="TryDate(ReadOnlySpan{char}, out DateTimeOffset)"/>) is one written day
    /// first, as much of the world writes it (13/03/2021, 13.03.2021 14:05), for advice: dates are read as ISO 8601 or,
    /// with slashes, month first, and a day-first date is read as text, or as another date where the day is 12 or less.
    /// </summary>
    public static bool LooksLikeDayFirstDate(string value) =>
        !TryDate(value.AsSpan(), out _) && DateTimeOffset.TryParseExact(value.Trim(), DayFirstFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    private static readonly string[] DayFirstFormats =
        [.. from separator in new[] { "/", ".", "-" }
            from time in new[] { "", " H:mm", " H:mm:ss" }
            from year in new[] { "yyyy", "yy" }
            select $"d{separator}M{separator}{year}{time}"];

    public static bool TryDate(ReadOnlySpan<byte> value, out DateTimeOffset date)
    {
        date = default;
        if (value.Length < 8 || value.Length > 160 || (value[0] < 0x80 && !char.IsAsciiDigit((char)value[0]))) return false;
        Span<char> chars = stackalloc char[value.Length];
        return TryDate(chars[..Encoding.UTF8.GetChars(value, chars)], out date);
    }

    /// <summary>
    /// A cell of a numeric column: missing (<see cref="IsMissing(ReadOnlySpan{char})"/>), a number (<see cref="TryNumber(ReadOnlySpan{char}, out double)"/>,
    /// infinities included: callers that refuse them say so), or not a number.
    /// </summary>
    public static CellReading ReadNumber(ReadOnlySpan<char> value, out double number)
    {
        number = double.NaN;
        if (IsMissing(value)) return CellReading.Missing;
        return TryNumber(value, out number) ? CellReading.Value : CellReading.Invalid;
    }

    /// <summary>The UTF-8 form of <see cref="ReadNumber(ReadOnlySpan{char}, out double)"/>.</summary>
    public static CellReading ReadNumber(ReadOnlySpan<byte> value, out double number)
    {
        number = double.NaN;
        if (IsMissing(value)) return CellReading.Missing;
        return TryNumber(value, out number) ? CellReading.Value : CellReading.Invalid;
    }

    /// <summary><see cref="ReadNumber(ReadOnlySpan{char}, out double)"/> of a value written with <paramref name="mark"/> (<see cref="TryNumber(ReadOnlySpan{char}, char, out double)"/>).</summary>
    public static CellReading ReadNumber(ReadOnlySpan<char> value, char mark, out double number)
    {
        number = double.NaN;
        if (IsMissing(value)) return CellReading.Missing;
        return TryNumber(value, mark, out number) ? CellReading.Value : CellReading.Invalid;
    }

    /// <summary>The UTF-8 form of <see cref="ReadNumber(ReadOnlySpan{char}, char, out double)"/>.</summary>
    public static CellReading ReadNumber(ReadOnlySpan<byte> value, char mark, out double number)
    {
        number = double.NaN;
        if (IsMissing(value)) return CellReading.Missing;
        return TryNumber(value, mark, out number) ? CellReading.Value : CellReading.Invalid;
    }

    /// <summary>
    /// A cell of a boolean column: missing, a boolean (the tokens of <see cref="TryBoolean(ReadOnlySpan{char}, out bool)"/>,
    /// and 1 or 0, which ML.NET's loader also reads as booleans), or neither. Inference does not count 1 and 0 as booleans:
    /// a column of them is numeric.
    /// </summary>
    public static CellReading ReadBoolean(ReadOnlySpan<char> value, out bool result)
    {
        result = false;
        if (IsMissing(value)) return CellReading.Missing;
        if (TryBoolean(value, out result)) return CellReading.Value;
        if (value.Length == 1 && value[0] is '0' or '1')
        {
            result = value[0] == '1';
            return CellReading.Value;
        }
        return CellReading.Invalid;
    }

    /// <summary>The UTF-8 form of <see cref="ReadBoolean(ReadOnlySpan{char}, out bool)"/>.</summary>
    public static CellReading ReadBoolean(ReadOnlySpan<byte> value, out bool result)
    {
        result = false;
        if (IsMissing(value)) return CellReading.Missing;
        if (TryBoolean(value, out result)) return CellReading.Value;
        if (value.Length == 1 && value[0] is (byte)'0' or (byte)'1')
        {
            result = value[0] == (byte)'1';
            return CellReading.Value;
        }
        return CellReading.Invalid;
    }

    /// <summary>
    /// A cell's text with every line break inside it (CR LF, or a lone CR) written as LF. ML.NET's text loader joins the
    /// physical lines of a quoted field with LF, so training sees "multi\nline" however the file broke the line; the
    /// canonical data, the profile, predict and drift read the cell so too, and "multi\r\nline" is one category everywhere.
    /// </summary>
    public static string LineBreaksAsLf(string value) =>
        value.Contains('\r') ? value.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n') : value;

    /// <summary>The UTF-8 form of <see cref="LineBreaksAsLf(string)"/>, in place: the value's new length.</summary>
    public static int LineBreaksAsLf(Span<byte> value)
    {
        var r = value.IndexOf((byte)'\r');
        if (r < 0) return value.Length;
        var w = r;
        for (; r < value.Length; r++)
        {
            if (value[r] != (byte)'\r') value[w++] = value[r];
            else
            {
                value[w++] = (byte)'\n';
                if (r + 1 < value.Length && value[r + 1] == (byte)'\n') r++;
            }
        }
        return w;
    }

    /// <summary>A cell of a categorical, text or date column: missing, or its text as it is.</summary>
    public static CellReading ReadText(ReadOnlySpan<char> value) => IsMissing(value) ? CellReading.Missing : CellReading.Value;

    /// <summary>
    /// A JSON scalar as the cell it would be in an uploaded file: a string's text trimmed of white space (as the upload
    /// reader trims every field, so " CMT " is the category "CMT" at ingestion and at predict alike) with its line breaks
    /// as LF (<see cref="LineBreaksAsLf(string)"/>, as the upload reader writes them), a number's digits, true or false;
    /// null for null, objects and arrays.
    /// </summary>
    public static string? TextOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => LineBreaksAsLf(value.GetString()!.Trim()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.GetRawText(),
        _ => null,
    };

    /// <summary>A JSON value as the canonical data file holds it for a column of <paramref name="kind"/> (null: missing).</summary>
    public static string? Canonical(ColumnKind kind, JsonElement value) => TextOf(value) is { } text ? Canonical(kind, text) : null;

    /// <summary>
    /// The text a number is counted and named by (its shortest round-trip form): "1.0" and "1" are one class, "1". A
    /// classifier's classes are these texts, and the canonical data file writes a numeric label so (<see cref="ClassLabel"/>).
    /// </summary>
    public static string NumberKey(double number) => number.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A classification label's cell as its class: a number by its <see cref="NumberKey"/>, any other text as it is.</summary>
    public static string ClassLabel(string value) => TryNumber(value, out var number) && double.IsFinite(number) ? NumberKey(number) : value;

    /// <summary><see cref="ClassLabel(string)"/> of a value written with <paramref name="mark"/>: "1,0" is the class "1" for data read with a decimal comma, as ingestion counted it.</summary>
    public static string ClassLabel(string value, char mark) => TryNumber(value.AsSpan(), mark, out var number) && double.IsFinite(number) ? NumberKey(number) : value;

    /// <summary>
    /// A cell as the canonical data file holds it for a column of <paramref name="kind"/>: null when missing, booleans as
    /// true/false, a number written with a decimal comma (<paramref name="mark"/>) with a point, anything else as it was.
    /// Ingestion keeps a non-number in a numeric column as missing; serving refuses it.
    /// </summary>
    public static string? Canonical(ColumnKind kind, string value, char mark = DecimalMark.Point)
    {
        switch (kind)
        {
            case ColumnKind.Numeric:
                if (ReadNumber(value, mark, out _) != CellReading.Value) return null;
                if (mark == DecimalMark.Point) return value;
                var text = value.AsSpan().Trim();
                Span<char> plain = stackalloc char[text.Length];
                return TryPointForm(text, plain, out var length) ? new string(plain[..length]) : null;
            case ColumnKind.Boolean:
                return ReadBoolean(value, out var b) switch
                {
                    CellReading.Missing => null,
                    CellReading.Value => b ? "true" : "false",
                    _ => value,
                };
            default:
                return ReadText(value) == CellReading.Missing ? null : value;
        }
    }

    /// <summary>A value as reports echo it: spreadsheet formula starters (= + - @) are prefixed with a quote, long text cut.</summary>
    public static string Escape(string value)
    {
        var cut = value.Length > 200 ? value[..200] + "…" : value;
        return cut.Length > 0 && cut[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + cut : cut;
    }
}

/// <summary>What a cell holds once read as a column of a known kind.</summary>
public enum CellReading
{
    /// <summary>Empty or a missing-value token ("NA", "NaN", "null", ...).</summary>
    Missing,

    /// <summary>A value of the column's kind.</summary>
    Value,

    /// <summary>Text the column's kind cannot hold (e.g. "abc" in a numeric column).</summary>
    Invalid,
}

/// <summary>How a value that is not a number was written as one (<see cref="CellValues.NumberWrittenAs"/>); a value may be several.</summary>
[Flags]
public enum NumberForms
{
    None = 0,

    /// <summary>"17,5", "1.234,5".</summary>
    DecimalComma = 1,

    /// <summary>"86,087.05", "1.234.567".</summary>
    ThousandsSeparators = 2,

    /// <summary>"28.4%".</summary>
    Percent = 4,

    /// <summary>"$32.99", "€5", "5,00 €".</summary>
    Currency = 8,

    /// <summary>"3.5" in a file read with a decimal comma (<see cref="CellValues.NumberWrittenAs(string, char)"/>).</summary>
    DecimalPoint = 16,
}
