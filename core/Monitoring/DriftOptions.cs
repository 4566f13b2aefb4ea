namespace Serverless.Core.Monitoring;

/// <summary>Drift checks' configuration (<c>Pipeline:Drift</c>); a model's spec (<c>drift</c>) overrides the per-model defaults.</summary>
public sealed class DriftOptions
{
    public const string Section = "Pipeline:Drift";

    /// <summary>
    /// When the drift timer wakes up, as a 6-field cron expression with seconds (UTC), the format of the Functions
    /// <c>TimerTrigger</c>, which reads this same setting. Each wake-up checks the models whose own schedule came due.
    /// </summary>
    public string TimerSchedule { get; set; } = "0 */5 * * * *";

    /// <summary>The drift checks of a model whose spec sets no <c>drift.schedule</c>: 5-field cron (UTC).</summary>
    public string Schedule { get; set; } = "0 * * * *";

    /// <summary>Whether the local host runs the drift timer (the Functions app: <c>AzureWebJobs.CheckDriftOnTimer.Disabled</c>).</summary>
    public bool Timer { get; set; } = true;
}
