using System.Text.Json.Serialization;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// What each of ingestion's audit records of an upload names (<see cref="Tracking.AuditActions.UploadOutcomes"/>): the
/// blob, and the ETag of the version of it that was read, which ties the record to one upload of a name used again.
/// </summary>
public interface IUploadOutcomeDetails
{
    string BlobName { get; }
    string ETag { get; }
}

/// <summary>An upload's blob and ETag as read back from any of its outcome records.</summary>
public sealed record UploadOutcomeRef(string BlobName, string? ETag);

/// <summary>
/// The details of ingestion's <c>dataset</c> audit record (<see cref="Tracking.AuditActions.Ingested"/>), read back by
/// whoever follows an upload: the version the file's data is, and, where the file brought back an earlier version as
/// the latest (policy replace), the version it <see cref="Replaced"/>; where the spec dropped before the file was refused
/// and the file was read under the spec in force instead, where that spec is kept in quarantine (<see cref="RefusedSpec"/>).
/// </summary>
public sealed record IngestedDetails(string BlobName, string ETag, string DatasetVersion, long Rows, long RejectedRows, string Label, TaskKind Task, string? Replaced = null, string? RefusedSpec = null)
    : IUploadOutcomeDetails;

/// <summary>The details of a <c>duplicate</c> audit record: the upload held the data of <see cref="DatasetVersion"/>.</summary>
public sealed record DuplicateDetails(string BlobName, string ETag, string DatasetVersion) : IUploadOutcomeDetails;

/// <summary>The details of a <c>quarantine</c> audit record: the reason code and where the file is kept.</summary>
public sealed record QuarantinedDetails(string BlobName, string ETag, string Reason, string Location) : IUploadOutcomeDetails;

/// <summary>One column of a dataset version: its kind, and whether that kind was inferred or set by the spec.</summary>
public sealed record ColumnSchema(string Name, ColumnKind Kind, bool Inferred = true);

/// <summary>
/// The schema of a dataset version, with the roles the pipeline gave its columns and how each was decided.
/// The canonical data file (<c>data.csv</c>) holds exactly <see cref="Columns"/>, in order, with a header row.
/// </summary>
public sealed record DatasetSchema
{
    public required IReadOnlyList<ColumnSchema> Columns { get; init; }
    public required string Label { get; init; }
    public required TaskKind Task { get; init; }

    /// <summary>Columns used as features: every column but the label, excluded, sensitive and unusable ones.</summary>
    public required IReadOnlyList<string> Features { get; init; }

    public IReadOnlyList<string> Excluded { get; init; } = [];
    public IReadOnlyList<string> Sensitive { get; init; } = [];

    /// <summary>Classification: the label's classes, sorted ordinally; for binary tasks the second is the positive class.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>
    /// A boolean label's classes as the file writes them (<c>yes</c> for <c>true</c>), keyed by class, where the two
    /// differ: the data file and training read <c>true</c>/<c>false</c>, but a message about a class names it as the
    /// user wrote it (<see cref="ClassAsWritten"/>). Null when every class is written as it is named.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ClassesAsWritten { get; init; }

    /// <summary>A class as the file writes it (see <see cref="ClassesAsWritten"/>).</summary>
    public string ClassAsWritten(string @class) => ClassesAsWritten?.GetValueOrDefault(@class) ?? @class;

    public string? TimeColumn { get; init; }

    /// <summary>
    /// The decimal mark the upload's numbers were read with (<see cref="DecimalMark"/>): '.' (3.5), or ',' (3,5); the data
    /// file writes every number with a point. Predict reads a number sent as a string with it, as ingestion read the file.
    /// </summary>
    public char DecimalSeparator { get; init; } = DecimalMark.Point;

    /// <summary>What was inferred rather than read from the spec, in words a person reads (e.g. "label: last column").</summary>
    public IReadOnlyList<string> Inferred { get; init; } = [];

    public ColumnSchema Column(string name) =>
        Columns.FirstOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"No column '{name}'.");

    [JsonIgnore]
    public string? PositiveClass => Task == TaskKind.Binary && Classes is { Count: 2 } ? Classes[1] : null;
}

/// <summary>
/// What became of the lines of one upload, besides its header: <see cref="Rows"/> data rows read, each
/// <see cref="Accepted"/> or <see cref="Rejected"/> (counted per reason code in <see cref="RejectedBy"/>), and the comment
/// lines (only when the spec names a comment character) and blank lines skipped.
/// </summary>
public sealed record LineCounts(long Rows, long Accepted, long Rejected, IReadOnlyDictionary<string, long> RejectedBy, long Comments, long Blank);

/// <summary>Where a dataset version came from.</summary>
public sealed record DatasetSource(string Blob, string ETag, DateTimeOffset UploadedAt, long Bytes, string Sha256);

/// <summary>
/// A content-addressed dataset version (<c>datasets/{model}/{version}/manifest.json</c>): the version id is derived from
/// the sha256 of the canonical data, so the same data uploaded again maps to the same version.
/// </summary>
public sealed record DatasetManifest
{
    public required string Model { get; init; }
    public required string Version { get; init; }
    public required string Sha256 { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DatasetSchema Schema { get; init; }
    public required long Rows { get; init; }
    public long RowsRejected { get; init; }

    /// <summary>What became of every line of the upload this version was made from (besides its header).</summary>
    public LineCounts? Lines { get; init; }

    /// <summary>The row-level problems of that upload (rejected rows by reason), each counted, with the first lines and samples.</summary>
    public IReadOnlyList<ReportedProblem> Problems { get; init; } = [];
    public required IReadOnlyList<DatasetSource> Sources { get; init; }
    public string? PreviousVersion { get; init; }
    public DataPolicy Policy { get; init; }

    /// <summary>The spec in force when the data was ingested (version 0: none, everything inferred).</summary>
    public SpecSnapshot? Spec { get; init; }

    /// <summary>Blob names (in the datasets container) of the canonical data and the profile.</summary>
    public required string DataBlob { get; init; }

    /// <summary>The data blob's ETag when it was written: any later rewrite of the blob changes it, noticed without reading the data.</summary>
    public string? DataETag { get; init; }
    public required string ProfileBlob { get; init; }
}

/// <summary>What became of one uploaded file.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<IngestionStatus>))]
public enum IngestionStatus { Accepted, Duplicate, Quarantined, SpecUpdated, Ignored }

/// <summary>The result of ingesting one blob of the drop zone.</summary>
public sealed record IngestionOutcome(
    IngestionStatus Status,
    string Model,
    string SourceBlob,
    string? DatasetVersion,
    string? QuarantineBlob,
    IReadOnlyList<string> ReasonCodes,
    string Message);
