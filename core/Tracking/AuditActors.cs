namespace Serverless.Core.Tracking;

/// <summary>
/// Who acts when no person does, as the audit log, version statuses and alias history name them. A person or caller
/// is named by the HTTP layer instead (the caller's identity, <c>admin</c>, or <c>anonymous</c>).
/// </summary>
public static class AuditActors
{
    /// <summary>A file dropped into the drop zone: its ingestion, and the training run it starts.</summary>
    public const string Upload = "upload";

    /// <summary>A training run, for what it decides and records itself.</summary>
    public const string Training = "training";

    /// <summary>The pipeline deciding for no one: an approval that expired, a run that failed while it waited.</summary>
    public const string System = "system";
}
