namespace Serverless.Core.Datasets;

/// <summary>
/// What the first pass learnt: the header, each column's statistics, the label's position, rows read and rejected, the
/// row-level problems, what became of every line, the first header name as written when it carried ML.NET's '#' mark,
/// and the canonical file written (<see cref="RawPath"/>, the input itself when it was canonical).
/// </summary>
internal sealed record FirstPassResult(
    string[] Header, ColumnStatistics[] Stats, int LabelIndex, long DataRows, long RejectedRows, ProblemLog Problems, RowRules Rules,
    string RawPath, string RawSha256, long AcceptedRows, LineCounts Lines, string? MarkedHeader)
{
    /// <summary>Where the column names came from when the file has no header line (null when it has one).</summary>
    public string? NamesWithoutHeader { get; init; }

    /// <summary>
    /// Whether every line ended with the delimiter, making a nameless last column empty in every row: it is left out of
    /// <see cref="Header"/> and <see cref="Stats"/>, but not of the file at <see cref="RawPath"/>, which the normalizer rewrites.
    /// </summary>
    public bool DroppedEmptyLastColumn { get; init; }

    /// <summary>The decimal mark the file's numbers were read with (<see cref="DecimalMark"/>); the file at <see cref="RawPath"/> writes them so.</summary>
    public char Mark { get; init; } = DecimalMark.Point;
}
