using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Core.Training;

namespace Serverless.Core.Api;

// The answers of the model routes, as named records so that the OpenAPI document describes each one's schema.
// Versions are always in the vN form; fields that are null are left out of the JSON (see ApiJson).

/// <summary><c>GET /api/health</c>: the models with a registry, and the production version each host has loaded.</summary>
public sealed record HealthAnswer(string Status, IReadOnlyList<string> Models, IReadOnlyList<LoadedVersion> Loaded, int HeldVersions,
    Monitoring.PredictionLogCounts PredictionLog, IReadOnlyList<Serving.UnservedAlias> Unserved)
{
    public const string Healthy = "healthy";

    /// <summary>The host answers, but an alias it was asked for names a version that failed its integrity check (<see cref="Unserved"/>).</summary>
    public const string Degraded = "degraded";
}

/// <summary>A model's production version as loaded by this host.</summary>
public sealed record LoadedVersion(string Model, string Version);

/// <summary><c>GET /api/models</c>.</summary>
public sealed record ModelList(IReadOnlyList<ModelSummary> Models);

/// <summary>
/// One model in the list: its production, staging and latest versions, the production version's test metrics, and how
/// many versions wait for a person's approval.
/// </summary>
public sealed record ModelSummary(
    string Model,
    string? Production,
    string? Staging,
    string? LatestVersion,
    int Versions,
    string? PrimaryMetric,
    IReadOnlyDictionary<string, double>? TestMetrics,
    int PendingApproval = 0);

/// <summary>
/// <c>GET /api/models/{model}</c>: aliases, versions and their history, the latest dataset, and how to call the model:
/// the <see cref="InputSignature"/> of the version that answers unpinned requests (production, else the latest) and an
/// <see cref="ExampleRequest"/> to send to the predict route. <see cref="RollbackTo"/> is where a rollback would move
/// production now (null: there is no earlier version to go to).
/// </summary>
public sealed record ModelView(
    string Model,
    IReadOnlyDictionary<string, string> Aliases,
    string? RollbackTo,
    string? LatestVersion,
    IReadOnlyList<VersionSummary> Versions,
    ModelLinks Links,
    IReadOnlyList<AliasChange> History,
    DatasetSummary? LatestDataset,
    InputSignature? InputSignature,
    IReadOnlyDictionary<string, object?>? ExampleRequest,
    IReadOnlyList<ChampionRetained>? ChampionRetained,
    Monitoring.LiveMetricsReport? Live,
    IReadOnlyList<QuarantinedSummary>? Quarantined);

/// <summary>A file of the model's that was quarantined: where it came from, when, and why (its report's codes and text).</summary>
public sealed record QuarantinedSummary(string Blob, DateTimeOffset QuarantinedAt, IReadOnlyList<string> ReasonCodes, string Reason);

/// <summary>
/// A registered version: when, from which data, which trainer with which parameters, its test metrics and status, and
/// the run that made it (<see cref="Run"/>: the path of its status), the rows its test metrics were measured on,
/// <see cref="GateFailed"/> for a version registered by hand that failed its quality gate, and the metrics it was chosen
/// by with how they were measured (<see cref="Selection"/>: <c>validation</c>, or <c>cv5</c> and the like), and the
/// 95% bootstrap interval of the tested test metric (<see cref="TestInterval"/>), and who set its status, when and why
/// (<see cref="StatusChanged"/>), and the candidate run it was registered from (<see cref="RunId"/>, as the model's
/// runs list names it; absent for versions registered before the registry kept it).
/// </summary>
public sealed record VersionSummary(
    string Version,
    DateTimeOffset CreatedAt,
    string DatasetVersion,
    string Trainer,
    IReadOnlyDictionary<string, double> Parameters,
    string PrimaryMetric,
    IReadOnlyDictionary<string, double> TestMetrics,
    string Status,
    string? OrchestrationId,
    string? Run,
    MetricSet? MeasuredOn = null,
    bool? GateFailed = null,
    IReadOnlyDictionary<string, double>? ValidationMetrics = null,
    SelectionMeasure? Selection = null,
    MetricInterval? TestInterval = null,
    StatusChange? StatusChanged = null,
    string? RunId = null,
    bool? IntegrityFailed = null)
{
    /// <summary>A registry entry as the API shows it (the registry keeps the trainer and its parameters as one description).</summary>
    public static VersionSummary Of(VersionEntry entry)
    {
        var candidate = CandidateSpec.Parse(entry.Trainer);
        return new(entry.Version, entry.CreatedAt, entry.DatasetVersion, candidate.Trainer, candidate.Parameters, entry.PrimaryMetric, entry.TestMetrics,
            entry.Status, entry.OrchestrationId, entry.OrchestrationId is null ? null : ApiRoutes.OrchestrationPath(entry.OrchestrationId),
            entry.MeasuredOn, entry.GatePassed ? null : true, entry.ValidationMetrics, entry.Selection, entry.TestInterval, entry.StatusChanged, entry.RunId);
    }
}

/// <summary>Where to read more about a model: its training runs (orchestrations), its experiment runs, where to predict, its data.</summary>
public sealed record ModelLinks(string Orchestrations, string Runs, string Predict, string Datasets);

/// <summary>The latest dataset version of a model and what was inferred about it.</summary>
public sealed record DatasetSummary(string Version, long Rows, DateTimeOffset CreatedAt, string Label, TaskKind Task, IReadOnlyList<string> Inferred, long RowsRejected = 0);

/// <summary>
/// <c>GET /api/models/{model}/versions/{version}</c>: the version's manifest (as written at registration), its status
/// now and who set it, when and why, and the model card as served.
/// </summary>
public sealed record VersionAnswer(ModelManifest Manifest, string? Card, string? Status = null, StatusChange? StatusChanged = null);

/// <summary>
/// The answer of promote and rollback: where the aliases point now, the move, why it was forced, if it was, the
/// earlier production versions a rollback went past (archived, rejected or expired since), if any, and
/// <see cref="Unchanged"/> when the version asked for was production already (nothing moved, nothing audited).
/// </summary>
public sealed record AliasesAnswer(string Model, IReadOnlyDictionary<string, string> Aliases, string? From = null, string? To = null, bool? Forced = null,
    string? ForcedBecause = null, IReadOnlyList<string>? Skipped = null, bool? Unchanged = null);

/// <summary><c>GET /api/models/{model}/runs</c>: experiment runs (one per trained candidate), sorted by a metric or newest first.</summary>
public sealed record RunList(string Model, string? SortedBy, IReadOnlyList<ExperimentRun> Runs, int Total, int Skip, int Top, string? OrchestrationId = null);

/// <summary><c>GET /api/audit</c>: audit records, newest first.</summary>
public sealed record AuditList(IReadOnlyList<AuditRecord> Records, string? Next = null);

/// <summary>The answer to <c>PUT /api/models/{model}/spec</c>: the spec version in force and what to do before training, when anything.</summary>
public sealed record SpecPutAnswer(string Model, int Version, string Sha256, bool Unchanged, Specs.ModelSpec Spec, string? Note);

/// <summary><c>GET /api/models/{model}/spec</c>: the spec in force, every version oldest first, and a note when there is none.</summary>
public sealed record SpecAnswer(string Model, Specs.SpecVersion? Current, IReadOnlyList<Specs.SpecVersion> History, string? Note);

/// <summary><c>POST /api/models/{model}/versions/{version}/archive</c>: the version, whether it was archived before, by whom and why, and the aliases.</summary>
public sealed record ArchiveAnswer(string Model, string Version, string Status, bool AlreadyArchived, Registry.StatusChange? Archived, IReadOnlyDictionary<string, string> Aliases);

/// <summary><c>GET /api/models/{model}/drift</c>: a page of drift reports, newest first.</summary>
public sealed record DriftReportPage(string Model, int Total, int Skip, int Top, IReadOnlyList<Monitoring.DriftReport> Reports);
