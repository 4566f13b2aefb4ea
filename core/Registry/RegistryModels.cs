using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Registry;

/// <summary>
/// Everything needed to trust and reproduce a registered model version (<c>models/{model}/v{N}/manifest.json</c>):
/// lineage, metrics, reproducibility settings and the sha256 of <c>model.zip</c>.
/// </summary>
public sealed record ModelManifest
{
    public required string Model { get; init; }
    public required string Version { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string DatasetVersion { get; init; }
    public required string DatasetSha256 { get; init; }
    public required DatasetSchema Schema { get; init; }
    public required CandidateSpec Candidate { get; init; }
    public required string PrimaryMetric { get; init; }
    /// <summary>The metrics the winner was chosen by, measured as <see cref="Selection"/> says.</summary>
    public required IReadOnlyDictionary<string, double> ValidationMetrics { get; init; }
    public required IReadOnlyDictionary<string, double> TestMetrics { get; init; }
    public IReadOnlyDictionary<string, double>? BaselineTestMetrics { get; init; }
    public IReadOnlyDictionary<string, double>? ChampionTestMetrics { get; init; }
    public string? ChampionVersion { get; init; }
    public required SplitRefs Splits { get; init; }
    public required string ModelBlob { get; init; }
    public required string Sha256 { get; init; }
    public required long SizeBytes { get; init; }
    public required Reproducibility Reproducibility { get; init; }
    public required string OrchestrationId { get; init; }
    public required string RunId { get; init; }
    public IReadOnlyList<string> GateNotes { get; init; } = [];

    /// <summary>What the model.zip was fit on: the winner is refit on train and validation once validation has chosen it.</summary>
    public ModelFit? Fit { get; init; }

    /// <summary>The rows <see cref="TestMetrics"/> were measured on.</summary>
    public MetricSet? TestMeasuredOn { get; init; }

    /// <summary>How far the tested test metric could move on other rows drawn alike (null: not measured, as before it was recorded).</summary>
    public MetricInterval? TestInterval { get; init; }

    /// <summary>
    /// How <see cref="ValidationMetrics"/> were measured: on the validation split, or as the mean of a k-fold
    /// cross-validation on train and validation (small data), with each fold's score (null: before it was recorded).
    /// </summary>
    public SelectionMeasure? Selection { get; init; }

    /// <summary>How this version compared with the champion it met, on rows neither was trained on.</summary>
    public ChampionComparison? ChampionComparison { get; init; }

    /// <summary>Whether the version passed its quality gate; one that did not is promoted only with <c>force</c>.</summary>
    public bool GatePassed { get; init; } = true;

    /// <summary>The spec the version was trained under (for a run registered by hand that kept no record of it, the spec in force when it was registered).</summary>
    public SpecSnapshot? Spec { get; init; }

    /// <summary>Who registered the version by hand (a candidate run registered over the API); null for a training run's winner.</summary>
    public string? RegisteredBy { get; init; }

    /// <summary>Permutation feature importance on the test split, most important first (null: not computed).</summary>
    public FeatureImportanceReport? FeatureImportance { get; init; }
    /// <summary>
    /// The W3C trace context (traceparent) of the registration, when traced: the first prediction a host serves from this
    /// version is recorded as a span of the same trace.
    /// </summary>
    public string? TraceParent { get; init; }
}

/// <summary>What it takes to train the same model again.</summary>
/// <remarks>
/// <see cref="Deterministic"/>: whether the same dataset version, spec and seed train the same model again; false where the
/// trainer ran on several threads, with <see cref="DeterminismNote"/> saying why. Null in versions registered before it was recorded.
/// </remarks>
public sealed record Reproducibility(int Seed, string MlNetVersion, string CodeVersion, string Runtime, string OperatingSystem,
    bool? Deterministic = null, string? DeterminismNote = null, double? SimplerWithin = null);

/// <summary>
/// One move of an alias, kept forever in the registry's history: who moved it, when, why, from and to, by which
/// <see cref="AliasMoves"/> action, and whether it was forced past a failed gate, a pending approval or an archive.
/// </summary>
public sealed record AliasChange(string Alias, string? From, string? To, DateTimeOffset At, string By, string Reason, string? Action = null, bool Forced = false);

/// <summary>The actions that move an alias, as recorded in <see cref="AliasChange.Action"/>.</summary>
public static class AliasMoves
{
    public const string Promote = "promote";
    public const string Rollback = "rollback";
    public const string Register = "register";
    public const string Archive = "archive";

    /// <summary>The alias was cleared because its version was rejected at the approval gate or its approval expired.</summary>
    public const string Withdraw = "withdraw";

    /// <summary>The action of a history entry; entries written before actions were recorded are told by their reason.</summary>
    public static string Of(AliasChange change) =>
        change.Action ?? (change.Reason.StartsWith("rollback", StringComparison.Ordinal) ? Rollback : Promote);
}

/// <summary>
/// A version as listed in the registry, with its headline metrics: test metrics and the rows they were measured on
/// (<see cref="MeasuredOn"/>), and the metrics it was chosen by with how they were measured (<see cref="Selection"/>,
/// without the per-fold scores its manifest keeps), and the test interval of the tested metric (<see cref="TestInterval"/>).
/// <see cref="RunId"/> is the candidate run it was registered from (null in entries written before it was kept here:
/// their manifests name it).
/// </summary>
public sealed record VersionEntry(
    string Version,
    DateTimeOffset CreatedAt,
    string DatasetVersion,
    string Trainer,
    string PrimaryMetric,
    IReadOnlyDictionary<string, double> TestMetrics,
    string Status,
    string? OrchestrationId = null,
    MetricSet? MeasuredOn = null,
    bool GatePassed = true,
    IReadOnlyDictionary<string, double>? ValidationMetrics = null,
    SelectionMeasure? Selection = null,
    MetricInterval? TestInterval = null,
    StatusChange? StatusChanged = null,
    string? RunId = null);

/// <summary>Who set a version's <see cref="VersionEntry.Status"/>, when, and why (the gate's decision, an expiry, an archive).</summary>
public sealed record StatusChange(string By, DateTimeOffset At, string? Reason);

/// <summary>The registry of one model (<c>models/{model}/registry.json</c>), changed only under ETag concurrency.</summary>
public sealed record RegistryDocument
{
    public required string Model { get; init; }
    public int LatestVersion { get; init; }
    public Dictionary<string, string> Aliases { get; init; } = [];
    public List<VersionEntry> Versions { get; init; } = [];
    public List<AliasChange> History { get; init; } = [];

    /// <summary>Runs whose winner did not replace the champion, newest last, with both numbers and the tolerance.</summary>
    public List<ChampionRetained> ChampionRetained { get; init; } = [];

    /// <summary>
    /// Training runs a person terminated (instance ids, newest last, at most <see cref="ModelRegistry.MaxTerminatedRuns"/>):
    /// what such a run still had under way stops. A registration rejects its version instead of staging it
    /// (<see cref="ModelRegistry.StageAsync"/>), a promotion moves nothing, and a candidate not yet trained is not trained.
    /// Purging the run's history takes it off (<see cref="ModelRegistry.ForgetTerminatedRunAsync"/>).
    /// </summary>
    public List<string> TerminatedRuns { get; init; } = [];
}

/// <summary>A run whose winner (<see cref="Version"/> when it was registered anyway) did not replace the champion, and why.</summary>
public sealed record ChampionRetained(DateTimeOffset At, string OrchestrationId, string? Version, string Candidate, ChampionComparison? Comparison, string Reason);

/// <summary>Status of a version in the registry.</summary>
public static class VersionStatus
{
    public const string Registered = "registered";
    public const string PendingApproval = "pendingApproval";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Expired = "expired";

    /// <summary>Retired: never served again unless promoted with <c>force</c>.</summary>
    public const string Archived = "archived";

    /// <summary>
    /// Whether a version with this status is out of service: rejected at the approval gate, its approval expired, or
    /// archived. Such a version is served only from production, where it goes with <c>force</c>; no other alias, no
    /// rollback and no pinned request (<c>?version=</c>) reaches it.
    /// </summary>
    public static bool IsWithdrawn(string status) => status is Rejected or Expired or Archived;
}

/// <summary>
/// The outcome of a compare-and-swap on an alias: whether it moved, and where it points now. <see cref="Stopped"/> when
/// it was a training run's promotion and a person terminated that run (<see cref="ModelRegistry.TerminateRunAsync"/>),
/// so nothing moved.
/// </summary>
public sealed record AliasSwap(bool Swapped, string? Current, bool Stopped = false);

/// <summary>
/// What terminating a run did in the registry: the versions it rejected, and the run's last version (if it registered one)
/// with its status after, and whether that version is in production (it got there before the terminate).
/// </summary>
public sealed record TerminatedRun(IReadOnlyList<string> Rejected, string? Version, string? Status, bool InProduction);
