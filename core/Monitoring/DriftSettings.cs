using Serverless.Core.Specs;

namespace Serverless.Core.Monitoring;

/// <summary>A model's drift settings with every default filled in: its spec's <c>drift</c> over Evidently's defaults.</summary>
public sealed record DriftSettings
{
    public const double DefaultPValue = 0.05;
    public const double DefaultDistance = 0.1;
    public const double DefaultPsi = 0.2;
    public const double DefaultShare = 0.5;
    public const int DefaultSmallReference = 1000;
    public const int DefaultMinRows = 200;
    public const int DefaultMaxRows = 100_000;
    public const int DefaultConsecutive = 2;
    public const double DefaultMetricTolerance = 0.1;

    public string Method { get; init; } = DriftMethods.Auto;
    public double PValueThreshold { get; init; } = DefaultPValue;
    public double DistanceThreshold { get; init; } = DefaultDistance;
    public double PsiThreshold { get; init; } = DefaultPsi;
    public double DriftShare { get; init; } = DefaultShare;
    public int SmallReference { get; init; } = DefaultSmallReference;
    public TimeSpan Window { get; init; } = TimeSpan.FromDays(1);
    public int MinRows { get; init; } = DefaultMinRows;
    public int MaxRows { get; init; } = DefaultMaxRows;
    public int MaxReferenceRows { get; init; } = DefaultMaxRows;
    public int Consecutive { get; init; } = DefaultConsecutive;
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromDays(1);
    public bool Retrain { get; init; } = true;
    public double MetricTolerance { get; init; } = DefaultMetricTolerance;
    public IReadOnlyDictionary<string, ColumnDriftSpec> Columns { get; init; } = new Dictionary<string, ColumnDriftSpec>();
    public string Schedule { get; init; } = new DriftOptions().Schedule;
    public string? RetrainSchedule { get; init; }

    public static DriftSettings From(DriftSpec? spec, DriftOptions options)
    {
        var defaults = new DriftSettings();
        return new DriftSettings
        {
            Method = spec?.Method ?? defaults.Method,
            PValueThreshold = spec?.PValueThreshold ?? defaults.PValueThreshold,
            DistanceThreshold = spec?.DistanceThreshold ?? defaults.DistanceThreshold,
            PsiThreshold = spec?.PsiThreshold ?? defaults.PsiThreshold,
            DriftShare = spec?.RetrainShare ?? defaults.DriftShare,
            SmallReference = spec?.SmallReference ?? defaults.SmallReference,
            Window = spec?.Window ?? defaults.Window,
            MinRows = spec?.MinRows ?? defaults.MinRows,
            MaxRows = spec?.MaxRows ?? defaults.MaxRows,
            MaxReferenceRows = spec?.MaxReferenceRows ?? defaults.MaxReferenceRows,
            Consecutive = spec?.Consecutive ?? defaults.Consecutive,
            Cooldown = spec?.Cooldown ?? defaults.Cooldown,
            Retrain = spec?.Retrain ?? defaults.Retrain,
            MetricTolerance = spec?.MetricTolerance ?? defaults.MetricTolerance,
            Columns = spec?.Columns ?? [],
            Schedule = spec?.Schedule ?? options.Schedule,
            RetrainSchedule = spec?.RetrainSchedule,
        };
    }

    /// <summary>The threshold of <paramref name="method"/> unless the column names its own.</summary>
    public double ThresholdOf(string method, double? column) => column ?? method switch
    {
        DriftMethods.Psi => PsiThreshold,
        _ when DriftMethods.IsPValue(method) => PValueThreshold,
        _ => DistanceThreshold,
    };
}
