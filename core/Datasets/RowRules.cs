using System.Globalization;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// The checks a row must pass to be kept: as many fields as the header, not the header line again, a label, values
/// within the spec's ranges.
/// </summary>
internal sealed class RowRules(string[] header, int labelIndex, ModelSpec spec, char delimiter, bool fileHasHeader, char mark = DecimalMark.Point)
{
    private readonly bool[] _sensitive = [.. header.Select(h => spec.Sensitive?.Contains(h) == true)];
    private readonly byte[][]? _headerBytes = fileHasHeader ? [.. header.Select(h => System.Text.Encoding.UTF8.GetBytes(h))] : null;

    /// <summary>Whether the record repeats the file's header line, field for field (files joined one after another).</summary>
    public bool IsHeaderAgain(Utf8CsvReader values, int record)
    {
        if (_headerBytes is null || values.FieldCount(record) != _headerBytes.Length || !values[record, 0].SequenceEqual(_headerBytes[0])) return false;
        for (var c = 1; c < _headerBytes.Length; c++)
        {
            if (!values[record, c].SequenceEqual(_headerBytes[c])) return false;
        }
        return true;
    }

    private readonly (int Index, ValueRange Range)[] _ranges =
        [.. (spec.Ranges ?? []).Select(r => (Array.IndexOf(header, r.Key), r.Value)).Where(r => r.Item1 >= 0)];

    public bool HasRanges => _ranges.Length > 0;

    public (string Code, string Detail, string? Sample, int? Column)? Check(Utf8CsvReader values, int record)
    {
        var count = values.FieldCount(record);
        if (count != header.Length)
        {
            // One empty field more than the header: the line ends with the delimiter, as some exporters write every data line.
            var trailing = count == header.Length + 1 && values[record, count - 1].IsEmpty
                ? " (the line ends with the delimiter: remove the delimiter at the end of the data lines, or end the header line with one too)"
                // More fields where the decimal mark is the delimiter: a number's comma split its field.
                : count > header.Length && mark == delimiter ? $" (the file is separated by '{delimiter}' and read with a decimal '{mark}': quote numbers written so, \"3{mark}5\", or separate the fields with ';')" : "";
            return (ReasonCodes.RaggedRows, $"{count} fields where the header has {header.Length}{trailing}", Sample(values, record), null);
        }
        if (IsHeaderAgain(values, record))
        {
            return (ReasonCodes.HeaderRepeated, "the header line again, not data (were files joined one after another?)", Sample(values, record), null);
        }
        if (CellValues.IsMissing(values[record, labelIndex]))
        {
            return (ReasonCodes.LabelMissingInRow, $"no value in the label column '{header[labelIndex]}'", Sample(values, record), labelIndex);
        }
        foreach (var (index, range) in _ranges)
        {
            if (CellValues.TryNumber(values[record, index], mark, out var v) && (v < range.Min || v > range.Max))
            {
                // A number, so no formula a spreadsheet would run: shown as written, without Escape's guarding quote ('-1).
                var text = values.GetString(record, index);
                return (ReasonCodes.ValueOutOfRange, $"'{header[index]}' = {text} is outside [{range.Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {range.Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}]", text, index);
            }
        }
        return null;
    }

    /// <summary>The row as the file has it, up to its first eight fields, for a person to find it; a sensitive column's value is left out.</summary>
    private string Sample(Utf8CsvReader values, int record) =>
        string.Join(delimiter, values.GetStrings(record).Take(8).Select((v, i) => i < _sensitive.Length && _sensitive[i] ? "(sensitive)" : CellValues.Escape(v)));
}
