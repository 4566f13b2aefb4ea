using System.Reflection;
using System.Runtime.InteropServices;
using Serverless.Core.Registry;

namespace Serverless.Core.Training;

/// <summary>What it takes to train the same model again, as every registered version records it.</summary>
public static class ReproducibilityInfo
{
    /// <summary>
    /// Seed, library and code versions, runtime, whether the candidate's trainer gives the same model again, and the
    /// setting of the rule that chose it among the run's candidates (<see cref="CandidateChoice"/>; null for a run
    /// registered by hand, which no rule chose).
    /// </summary>
    public static Reproducibility Capture(int seed, CandidateSpec candidate, double? simplerWithin = null)
    {
        var deterministic = TrainerCatalog.IsDeterministic(candidate);
        return new(
            seed,
            typeof(Microsoft.ML.MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? typeof(Microsoft.ML.MLContext).Assembly.GetName().Version?.ToString() ?? "unknown",
            typeof(ReproducibilityInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.OSDescription,
            deterministic,
            deterministic
                ? "one thread and the seed above: the same dataset version, spec and seed give the same model and metrics"
                : $"{candidate.Trainer} ran on {candidate.Parameters[TrainerCatalog.Threads]} threads: retraining the same data with the same seed may give slightly different metrics",
            simplerWithin);
    }
}
