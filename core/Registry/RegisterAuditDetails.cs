using Serverless.Core.Training;

namespace Serverless.Core.Registry;

/// <summary>
/// What the audit records of a registration, whoever made it: a training run's winner or a run registered by hand
/// (<see cref="Manual"/>, with the <see cref="Reason"/> given). Both write this one shape, so an audit reader finds the same
/// fields in both.
/// </summary>
public sealed record RegisterAuditDetails(
    string Version,
    string DatasetVersion,
    string Trainer,
    IReadOnlyDictionary<string, double> Parameters,
    IReadOnlyDictionary<string, double> TestMetrics,
    MetricSet? TestMeasuredOn,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    string? SelectedOn,
    string? FitOn,
    string Sha256,
    string OrchestrationId,
    string RunId,
    int? SpecVersion,
    string? Status,
    bool? Manual = null,
    string? Reason = null)
{
    /// <summary>The details of a registered version, with the status it was staged at (null when staging was refused).</summary>
    public static RegisterAuditDetails Of(ModelManifest manifest, string? status) => new(
        manifest.Version, manifest.DatasetVersion, manifest.Candidate.Trainer, manifest.Candidate.Parameters, manifest.TestMetrics,
        manifest.TestMeasuredOn, manifest.ValidationMetrics, manifest.Selection?.Set, manifest.Fit?.On, manifest.Sha256,
        manifest.OrchestrationId, manifest.RunId, manifest.Spec?.Version, status);
}
