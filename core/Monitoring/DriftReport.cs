using System.Text.Json.Serialization;

namespace Serverless.Core.Monitoring;

/// <summary>What a drift check found (<see cref="DriftReport.Status"/>).</summary>
public static class DriftStatus
{
    /// <summary>The share of drifted features reached the threshold.</summary>
    public const string Drift = "drift";
    public const string NoDrift = "noDrift";
    /// <summary>Fewer logged rows in the window than the minimum: no verdict.</summary>
    public const string NotEnoughData = "notEnoughData";
    /// <summary>Enough rows, but no feature of a kind drift compares (a model of text alone), and the answers did not move.</summary>
    public const string NoComparableFeatures = "noComparableFeatures";
    public const string NoTraffic = "noTraffic";
    public const string NoProductionVersion = "noProductionVersion";
    /// <summary>The production version's dataset (the reference) could not be read.</summary>
    public const string NoReference = "noReference";
}

/// <summary>
/// One drift check of a model (<c>monitoring/{model}/drift/{inverted time}-{id}.json</c>): the window and sample sizes,
/// per feature the statistics, method, threshold and verdict, the dataset's verdict, prediction and concept drift, how
/// many checks in a row found drift, and whether retraining was started.
/// </summary>
public sealed record DriftReport
{
    public required string Model { get; init; }
    public required string CheckId { get; init; }
    public required DateTimeOffset CheckedAt { get; init; }

    /// <summary>What started the check: <c>timer</c> or <c>http</c>.</summary>
    public required string Trigger { get; init; }

    /// <summary>One of <see cref="DriftStatus"/>.</summary>
    public required string Status { get; init; }

    /// <summary>The verdict in words.</summary>
    public required string Message { get; init; }

    public string? ProductionVersion { get; init; }
    public string? DatasetVersion { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }

    /// <summary>
    /// Rows of the dataset version, and how many of them the reference sample holds; none (left out) when the check
    /// ended before it read the reference (no traffic, too few rows), which is not an empty reference.
    /// </summary>
    public long? ReferenceDatasetRows { get; init; }
    public int? ReferenceRows { get; init; }

    /// <summary>Rows logged in the window, and how many of them were compared (at most <see cref="MaxRows"/>).</summary>
    public long LoggedRows { get; init; }
    public int CurrentRows { get; init; }
    public int MinRows { get; init; }
    public int MaxRows { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DatasetDrift? Dataset { get; init; }

    public IReadOnlyList<FeatureDrift> Features { get; init; } = [];

    /// <summary>Drift of the production version's outputs: live answers against its answers on the reference rows.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public FeatureDrift? Prediction { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ConceptDrift? Concept { get; init; }

    /// <summary>Checks in a row, this one included, whose dataset verdict was drift; and how many confirm it.</summary>
    public int Consecutive { get; init; }
    public int ConsecutiveRequired { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RetrainDecision? Retraining { get; init; }

    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>The dataset's verdict: drifted when <see cref="Share"/> of the features checked reached <see cref="Threshold"/>.</summary>
public sealed record DatasetDrift(int Features, int DriftedFeatures, double Share, double Threshold, bool Drifted);

/// <summary>
/// One feature (or the prediction): the method that decided, its statistic, p-value (p-value tests) and threshold, the
/// verdict, the sample sizes, and every statistic computed for its kind (numeric: <c>ks</c>, <c>ksPValue</c>,
/// <c>wasserstein</c> (normalized), <c>psi</c>; categorical: <c>chisquare</c>, <c>chisquarePValue</c>, <c>psi</c>,
/// <c>jensenshannon</c>, and <c>ztest</c>, <c>ztestPValue</c> for two categories).
/// </summary>
public sealed record FeatureDrift
{
    public required string Name { get; init; }

    /// <summary><c>numeric</c> or <c>categorical</c>.</summary>
    public required string Kind { get; init; }
    public required string Method { get; init; }
    public required double Threshold { get; init; }
    public required double Statistic { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? PValue { get; init; }

    public required bool Drifted { get; init; }
    public required int ReferenceRows { get; init; }
    public required int CurrentRows { get; init; }

    /// <summary>Rows of the current sample where the feature was missing (left out of the comparison of values).</summary>
    public int CurrentMissing { get; init; }

    /// <summary>The missing values on both sides, when either has some (<see cref="DriftDetector.CompareMissing"/>); <see cref="Drifted"/> includes their verdict.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MissingShare? Missing { get; init; }

    public required IReadOnlyDictionary<string, double> Statistics { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Note { get; init; }
}

/// <summary>
/// A feature's missing values in the reference and in the window, as counts and shares, the two-proportion z-test of the
/// shares, and whether they drifted (<see cref="DriftDetector.CompareMissing"/>).
/// </summary>
public sealed record MissingShare(int ReferenceMissing, double ReferenceShare, int CurrentMissing, double CurrentShare, double Z, double PValue, bool Drifted);

/// <summary>Concept drift: the live metric on labelled feedback against the production version's validation metric.</summary>
public sealed record ConceptDrift(string Metric, int Rows, double? LiveValue, double ValidationValue, double Degradation, double Tolerance, bool Drifted, string Message);

/// <summary>Whether the check started retraining, the run's id, and why (or why not).</summary>
public sealed record RetrainDecision(bool Started, string Reason, string? InstanceId = null);
