using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// The one reading of a cell's text, shared by ingestion (CSV cells, as UTF-16 or UTF-8 with the same answers) and
/// serving (JSON values, read as the cell they would be in an uploaded file): missing-value tokens, numbers, booleans,
/// dates, and the value a column of a known kind holds. Training and serving cannot read a value differently when both
/// ask here.
/// </summary>
public static class CellValues
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
    /// Whether a value that is not a number would be one with a decimal comma ("17,5", "1.234,5"), for advice: the file
    /// is read with a decimal point, whatever the culture it was written in.
    /// </summary>
    public static bool LooksLikeDecimalComma(string value)
    {
        if (value.Count(c => c == ',') != 1 || IsThousandsGrouped(value.Trim())) return false;
        var pointed = value.Replace(".", "", StringComparison.Ordinal).Replace(',', '.');
        return TryNumber(pointed, out var number) && double.IsFinite(number);
    }

    /// <summary>
    /// A value that is not a number but one written for people, for advice: with thousands separators (86,087.05), as a
    /// percentage (28.4%) or with a currency sign ($32.99, €5, 5 €); the number alone (86087.05) and the marks it carried.
    /// Null for anything else.
    /// </summary>
    public static (string Number, IReadOnlyList<string> Marks)? NumberWrittenForPeople(string value)
    {
        var text = value.Trim();
        var marks = new List<string>();
        if (CurrencySigns.FirstOrDefault(sign => text.Contains(sign, StringComparison.Ordinal)) is { } currency)
        {
            // Either side of the number, and either side of its sign: $-3.50, -$3.50, 5 €.
            text = text.Replace(currency, "", StringComparison.Ordinal).Trim();
            marks.Add("a currency sign");
        }
        if (text.EndsWith('%'))
        {
            text = text[..^1].TrimEnd();
            marks.Add("a percent sign");
        }
        if (IsThousandsGrouped(text))
        {
            text = text.Replace(",", "", StringComparison.Ordinal);
            marks.Add("thousands separators");
        }
        return marks.Count > 0 && TryNumber(text, out var number) && double.IsFinite(number) ? (text, marks) : null;
    }

    private static readonly string[] CurrencySigns = ["$", "€", "£", "¥", "₹"];

    /// <summary>
    /// Digits grouped by three with commas, as 86,087.05 or 1,234,567: a single group without a decimal point (1,234) is
    /// left out, since it reads as a decimal comma as well.
    /// </summary>
    private static bool IsThousandsGrouped(string text)
    {
        var digits = text.TrimStart('+', '-');
        var point = digits.IndexOf('.');
        var groups = (point < 0 ? digits : digits[..point]).Split(',');
        if (groups.Length < 2 || (groups.Length == 2 && point < 0)) return false;
        return groups[0].Length is >= 1 and <= 3 && groups[0].All(char.IsAsciiDigit) && groups.Skip(1).All(g => g.Length == 3 && g.All(char.IsAsciiDigit));
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

    /// <summary>
    /// A cell as the canonical data file holds it for a column of <paramref name="kind"/>: null when missing, booleans as
    /// true/false, anything else as it was. Ingestion keeps a non-number in a numeric column as missing; serving refuses it.
    /// </summary>
    public static string? Canonical(ColumnKind kind, string value)
    {
        switch (kind)
        {
            case ColumnKind.Numeric:
                return ReadNumber(value, out _) == CellReading.Value ? value : null;
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
