namespace Serverless.Core.Specs;

/// <summary>
/// The checks of a spec's <c>drift</c> settings: the one place where each drift setting's rule lives. A new drift
/// setting adds its check here; <see cref="ModelSpecValidation"/> calls this for every spec, HTTP or dropped.
/// </summary>
public static class DriftSpecValidation
{
    public const string Field = "drift";

    public static void Validate(DriftSpec drift, SpecProblems problems)
    {
        if (drift.PsiThreshold is <= 0) problems.Add($"{Field}.psiThreshold", "must be positive");
        if (drift.RetrainShare is < 0 or > 1) problems.Add($"{Field}.retrainShare", "a fraction from 0 to 1");
        if (drift.SampleRate is < 0 or > 1) problems.Add($"{Field}.sampleRate", "a fraction from 0 to 1");
        if (drift.RetrainSchedule is { } cron)
        {
            try
            {
                Cronos.CronExpression.Parse(cron);
            }
            catch (Cronos.CronFormatException e)
            {
                problems.Add($"{Field}.retrainSchedule", $"not a cron expression (five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\"): {e.Message}");
            }
        }
    }
}
