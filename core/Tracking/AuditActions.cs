namespace Serverless.Core.Tracking;

/// <summary>
/// The audit actions that say what became of an uploaded file (each record's details name its <c>blobName</c>): read by
/// whoever follows an upload, such as the command line's <c>upload --wait</c>.
/// </summary>
public static class AuditActions
{
    /// <summary>The file became a new dataset version (details: <c>datasetVersion</c>, <c>rows</c>, <c>rejectedRows</c>, <c>label</c>, <c>task</c>).</summary>
    public const string Dataset = "dataset";

    /// <summary>The file's data equals an existing dataset version (details: <c>datasetVersion</c>).</summary>
    public const string Duplicate = "duplicate";

    /// <summary>The file was rejected and kept in quarantine (details: <c>reason</c>, <c>location</c>).</summary>
    public const string Quarantine = "quarantine";

    public static readonly IReadOnlyList<string> UploadOutcomes = [Dataset, Duplicate, Quarantine];
}
