namespace Serverless.Core.Specs;

/// <summary>
/// The checks of a spec's <c>drift</c> settings: the one place where each drift setting's rule lives. A new drift
/// setting adds its check here; <see cref="ModelSpecValidation"/> calls this for every spec, HTTP or dropped.
/// </summary>
public static class DriftSpecValidation
{
    public const string Field = "drift";

    /// <summary>Adds a problem per bad drift setting (methods, thresholds, windows, schedules); the rules are <see cref="Monitoring.DriftMethods"/>'.</summary>
    public static void Validate(DriftSpec drift, SpecProblems problems) => Monitoring.DriftMethods.Validate(drift, problems.Add);
}
