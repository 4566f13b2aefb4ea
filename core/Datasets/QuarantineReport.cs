namespace Serverless.Core.Datasets;

/// <summary>
/// Why a file was quarantined (<c>quarantine/{model}/{stamp}-{hash}-{file}/report.json</c>, beside the file kept whole
/// as <c>original</c> and the <see cref="Summary"/> as <c>summary.txt</c>).
/// </summary>
public sealed record QuarantineReport
{
    public required string Blob { get; init; }
    public required string ETag { get; init; }
    public required string Sha256 { get; init; }
    public required long Bytes { get; init; }
    public DateTimeOffset? UploadedAt { get; init; }
    public required DateTimeOffset QuarantinedAt { get; init; }
    public required IReadOnlyList<string> ReasonCodes { get; init; }

    /// <summary>The reason in words a person can act on.</summary>
    public required string Reason { get; init; }

    /// <summary>Row-level problems seen before the file was refused, each counted, with the first lines and samples.</summary>
    public IReadOnlyList<ReportedProblem> Problems { get; init; } = [];

    /// <summary>One paragraph: what was refused, why, where it is kept, and what to do.</summary>
    public required string Summary { get; init; }
}

/// <summary>One kind of row-level problem as a report states it.</summary>
public sealed record ReportedProblem(string Code, long Count, IReadOnlyList<long> Lines, IReadOnlyList<string> Details, IReadOnlyList<string> Samples)
{
    public static ReportedProblem From(ProblemEntry entry) => new(entry.Code, entry.Count, [.. entry.Lines], [.. entry.Details], [.. entry.Samples]);
}

/// <summary>A quarantined file: where it is kept (<c>quarantine/{Location}original</c>) and its report.</summary>
public sealed record QuarantinedFile(string Location, QuarantineReport Report);
