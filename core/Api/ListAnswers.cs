using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;

namespace Serverless.Core.Api;

/// <summary><c>GET /api/models/{model}/aliases</c>: each alias, where it points, its moves; and the production versions a rollback goes back through.</summary>
public sealed record AliasList(string Model, IReadOnlyList<AliasTrail> Aliases, IReadOnlyList<string> ProductionStack);

/// <summary>One alias: the version it points at (none: cleared) and every move of it, oldest first.</summary>
public sealed record AliasTrail(string Alias, string? Version, IReadOnlyList<AliasMove> History);

/// <summary>One move of an alias: when, by whom, why, from and to, how (promote, rollback, ...), and whether it was forced.</summary>
public sealed record AliasMove(DateTimeOffset At, string By, string Reason, string? From, string? To, string Action, bool Forced)
{
    public static AliasMove Of(AliasChange change) => new(change.At, change.By, change.Reason, change.From, change.To, AliasMoves.Of(change), change.Forced);
}

/// <summary><c>GET /api/models/{model}/datasets</c>: what became of every upload, newest dataset version first.</summary>
public sealed record DatasetList(string Model, string? Latest, IReadOnlyList<DatasetVersionEntry> Versions, IReadOnlyList<DuplicateEntry> Duplicates, IReadOnlyList<QuarantinedEntry> Quarantined);

/// <summary>A dataset version: its rows and what became of every line, the uploads it holds, and what its schema says.</summary>
public sealed record DatasetVersionEntry(
    string Version, DateTimeOffset CreatedAt, long Rows, long RowsRejected, LineCounts? Lines, IReadOnlyList<ReportedProblem> Problems, string Sha256,
    string? PreviousVersion, DataPolicy Policy, IReadOnlyList<DatasetSource> Sources, string Label, TaskKind Task, IReadOnlyList<string> Features, IReadOnlyList<string> Inferred)
{
    public static DatasetVersionEntry Of(DatasetManifest v) => new(v.Version, v.CreatedAt, v.Rows, v.RowsRejected, v.Lines, v.Problems, v.Sha256, v.PreviousVersion, v.Policy,
        v.Sources, v.Schema.Label, v.Schema.Task, v.Schema.Features, v.Schema.Inferred);
}

/// <summary>An upload that held an existing version's data; <see cref="Restored"/>: it made that version the latest again.</summary>
public sealed record DuplicateEntry(string Blob, DateTimeOffset? UploadedAt, DateTimeOffset RecordedAt, long Bytes, string Sha256, string DatasetVersion, string Message, bool? Restored)
{
    public static DuplicateEntry Of(DuplicateUpload d) => new(d.Blob, d.UploadedAt, d.RecordedAt, d.Bytes, d.Sha256, d.DatasetVersion, d.Message, d.Restored);
}

/// <summary>A quarantined upload: its reasons (codes and words), row problems, summary, and where its original bytes are kept.</summary>
public sealed record QuarantinedEntry(
    string Blob, DateTimeOffset? UploadedAt, DateTimeOffset QuarantinedAt, long Bytes, string Sha256, IReadOnlyList<string> ReasonCodes, string Reason, string Summary,
    IReadOnlyList<ReportedProblem> Problems, string Original, string? Location = null)
{
    public static QuarantinedEntry Of(QuarantinedFile file, string original, bool withLocation = false) => new(file.Report.Blob, file.Report.UploadedAt, file.Report.QuarantinedAt,
        file.Report.Bytes, file.Report.Sha256, file.Report.ReasonCodes, file.Report.Reason, file.Report.Summary, file.Report.Problems, original, withLocation ? file.Location : null);
}

/// <summary><c>GET /api/models/{model}/quarantine</c>: the model's quarantined files, newest first, at most the page asked for.</summary>
public sealed record QuarantineList(string Model, int Total, IReadOnlyList<QuarantinedEntry> Files);
