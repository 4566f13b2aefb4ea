using System.Globalization;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>The checks a row must pass to be kept: as many fields as the header, a label, values within the spec's ranges.</summary>
internal sealed class RowRules(string[] header, int labelIndex, ModelSpec spec, char delimiter)
{
    private readonly (int Index, ValueRange Range)[] _ranges =
        [.. (spec.Ranges ?? []).Select(r => (Array.IndexOf(header, r.Key), r.Value)).Where(r => r.Item1 >= 0)];

    public bool HasRanges => _ranges.Length > 0;

    public (string Code, string Detail, string? Sample, int? Column)? Check(Utf8CsvReader values, int record)
    {
        var count = values.FieldCount(record);
        if (count != header.Length)
        {
            return ("ragged_rows", $"{count} fields where the header has {header.Length}", Sample(values, record), null);
        }
        if (CellValues.IsMissing(values[record, labelIndex]))
        {
            return ("label_missing_in_row", $"no value in the label column '{header[labelIndex]}'", Sample(values, record), labelIndex);
        }
        foreach (var (index, range) in _ranges)
        {
            if (CellValues.TryNumber(values[record, index], out var v) && (v < range.Min || v > range.Max))
            {
                var text = CellValues.Escape(values.GetString(record, index));
                return ("value_out_of_range", $"'{header[index]}' = {text} is outside [{range.Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {range.Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}]", text, index);
            }
        }
        return null;
    }

    /// <summary>The row as the file has it, up to its first eight fields, for a person to find it.</summary>
    private string Sample(Utf8CsvReader values, int record) => string.Join(delimiter, values.GetStrings(record).Take(8).Select(CellValues.Escape));
}
