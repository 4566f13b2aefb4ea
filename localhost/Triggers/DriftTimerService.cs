using Cronos;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Serverless.Core.Monitoring;
using Serverless.Orchestrations;

namespace Serverless.LocalHost.Triggers;

/// <summary>
/// The local host's drift timer: wakes up on <c>Pipeline:Drift:TimerSchedule</c> (6-field cron with seconds, UTC, the
/// format of the Functions <c>TimerTrigger</c> that reads the same setting) and hands over to the shared <see cref="DriftTimer"/>.
/// </summary>
public sealed class DriftTimerService(DriftTimer timer, DurableTaskClient workflows, IOptions<DriftOptions> options, TimeProvider clock,
    ILogger<DriftTimerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Timer) return;
        var schedule = CronExpression.Parse(options.Value.TimerSchedule, CronFormat.IncludeSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            if (schedule.GetNextOccurrence(now, TimeZoneInfo.Utc) is not { } next) return;
            try
            {
                await Task.Delay(next - now, clock, stoppingToken);
                await timer.TickAsync(clock.GetUtcNow(), workflows, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "The drift timer failed; it runs again at its next occurrence");
            }
        }
    }
}
