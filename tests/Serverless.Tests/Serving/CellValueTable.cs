using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Tests.Serving;

/// <summary>One cell of the table: its column's kind, its text, and what it must be read as (null = missing).</summary>
public sealed record CellCase(ColumnKind Kind, string Cell, string? Value)
{
    public CellReading Reading => Value is null ? CellReading.Missing : CellReading.Value;

    public override string ToString() => $"{Kind} \"{Cell}\" → {Value ?? "missing"}";
}

/// <summary>
/// The one table of cell values that ingestion and predict must read alike: missing-value tokens, numbers, booleans
/// (true/false, yes/no, t/f, y/n, 1/0, any case) and categories. A value is given canonically: numbers in invariant
/// round-trip form, booleans as true/false, text as it is.
/// </summary>
public static class CellValueTable
{
    public static readonly IReadOnlyList<CellCase> Cases =
    [
        .. new[] { "", "NA", "na", "N/A", "NaN", "null", "NULL", "none", "?" }.Select(m => new CellCase(ColumnKind.Numeric, m, null)),
        new(ColumnKind.Numeric, "12.5", "12.5"),
        new(ColumnKind.Numeric, "-3", "-3"),
        new(ColumnKind.Numeric, "1e1", "10"),
        new(ColumnKind.Numeric, "0.25", "0.25"),
        new(ColumnKind.Numeric, "+4", "4"),
        .. new[] { "true", "TRUE", "True", "yes", "Yes", "y", "t", "T", "1" }.Select(t => new CellCase(ColumnKind.Boolean, t, "true")),
        .. new[] { "false", "no", "NO", "n", "f", "F", "0" }.Select(f => new CellCase(ColumnKind.Boolean, f, "false")),
        .. new[] { "", "NA", "null", "NaN" }.Select(m => new CellCase(ColumnKind.Boolean, m, null)),
        new(ColumnKind.Categorical, "north", "north"),
        new(ColumnKind.Categorical, "West side", "West side"),
        .. new[] { "", "NA", "n/a", "null", "None", "NaN", "?" }.Select(m => new CellCase(ColumnKind.Categorical, m, null)),
        // White space around a value is trimmed on both paths, as the upload reader trims every field.
        new(ColumnKind.Categorical, " north ", "north"),
        new(ColumnKind.Categorical, " NA ", null),
        new(ColumnKind.Numeric, " 7 ", "7"),
        new(ColumnKind.Boolean, " yes ", "true"),
    ];

    public static IEnumerable<object[]> Rows => Cases.Select(c => new object[] { c });

    /// <summary>A value as the canonical data file holds it, read back into the table's canonical form.</summary>
    public static string? Canonical(ColumnKind kind, string cell) => cell.Length == 0 ? null : kind switch
    {
        ColumnKind.Numeric => double.Parse(cell, System.Globalization.CultureInfo.InvariantCulture).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => cell,
    };
}
