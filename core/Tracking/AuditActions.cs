namespace Serverless.Core.Tracking;

/// <summary>
/// The actions the audit log records, one constant per state change, and the list the audit route filters by. An action
/// recorded anywhere is named here.
/// </summary>
public static class AuditActions
{
    public const string Ingested = "dataset";
    public const string Duplicate = "duplicate";
    public const string Quarantine = "quarantine";
    public const string SpecChanged = "spec";
    public const string TrainRequested = "train";
    public const string TrainingStarted = "trainingStarted";
    public const string TrainingEnded = "trainingEnded";
    public const string DatasetRejected = "datasetRejected";
    public const string Register = "register";
    public const string Approve = "approve";
    public const string Reject = "reject";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Expired = "expired";
    public const string Promote = "promote";
    public const string ForcedPromote = "forcedPromote";
    public const string Rollback = "rollback";
    public const string Archive = "archive";
    public const string ChampionRetained = "championRetained";
    public const string IntegrityFailure = "integrityFailure";
    public const string Terminate = "terminate";
    public const string Purge = "purge";
    public const string DriftCheck = "driftCheck";
    public const string DriftRetrain = "driftRetrain";
    public const string ScheduledRetrain = "scheduledRetrain";

    public static IReadOnlyList<string> All { get; } =
    [
        Ingested, Duplicate, Quarantine, SpecChanged, TrainRequested, TrainingStarted, TrainingEnded, DatasetRejected, Register,
        Approve, Reject, Approved, Rejected, Expired, Promote, ForcedPromote, Rollback, Archive, ChampionRetained, IntegrityFailure,
        Terminate, Purge, DriftCheck, DriftRetrain, ScheduledRetrain,
    ];

    /// <summary>
    /// The actions that say what became of an uploaded file (each record's details name its <c>blobName</c>): read by
    /// whoever follows an upload, such as the command line's <c>upload --wait</c>.
    /// </summary>
    public static readonly IReadOnlyList<string> UploadOutcomes = [Ingested, Duplicate, Quarantine];
}
