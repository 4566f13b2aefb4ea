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

    /// <summary>
    /// The W3C trace context (traceparent) of the registration, when traced: the first prediction a host serves from this
    /// version is recorded as a span of the same trace.
    /// </summary>
    public string? TraceParent { get; init; }
}

/// <summary>What it takes to train the same model again.</summary>
public sealed record Reproducibility(int Seed, string MlNetVersion, string CodeVersion, string Runtime, string OperatingSystem);

/// <summary>One move of an alias, kept forever in the registry's history.</summary>
public sealed record AliasChange(string Alias, string? From, string? To, DateTimeOffset At, string By, string Reason);

/// <summary>A version as listed in the registry, with its headline metrics.</summary>
public sealed record VersionEntry(
    string Version,
    DateTimeOffset CreatedAt,
    string DatasetVersion,
    string Trainer,
    string PrimaryMetric,
    IReadOnlyDictionary<string, double> TestMetrics,
    string Status,
    string? OrchestrationId = null);

/// <summary>The registry of one model (<c>models/{model}/registry.json</c>), changed only under ETag concurrency.</summary>
public sealed record RegistryDocument
{
    public required string Model { get; init; }
    public int LatestVersion { get; init; }
    public Dictionary<string, string> Aliases { get; init; } = [];
    public List<VersionEntry> Versions { get; init; } = [];
    public List<AliasChange> History { get; init; } = [];
}

/// <summary>Status of a version in the registry.</summary>
public static class VersionStatus
{
    public const string Registered = "registered";
    public const string PendingApproval = "pendingApproval";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Expired = "expired";
}

/// <summary>The outcome of a compare-and-swap on an alias: whether it moved, and where it points now.</summary>
public sealed record AliasSwap(bool Swapped, string? Current);
