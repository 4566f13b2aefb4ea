using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Monitoring;

namespace Serverless.Core.Hosting;

/// <summary>Registration of the prediction log, feedback and live metrics (serving registers it, so both hosts have it).</summary>
public static class PredictionLogHostingExtensions
{
    public static IHostApplicationBuilder AddPipelinePredictionLog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PredictionLogOptions>().BindConfiguration(PredictionLogOptions.Section);
        builder.Services.AddSingleton<MonitoringSettingsCache>();
        builder.Services.AddSingleton<PredictionLogBuffer>();
        builder.Services.AddSingleton<PredictionLogWriter>();
        // The writer's StopAsync writes what is buffered when the host stops.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PredictionLogWriter>());
        builder.Services.AddSingleton<PredictionLogReader>();
        builder.Services.AddSingleton<FeedbackReader>();
        builder.Services.AddSingleton<FeedbackService>();
        builder.Services.AddSingleton<LabelledRowsReader>();
        builder.Services.AddSingleton<LiveMetrics>();
        builder.Services.AddSingleton<Api.FeedbackApi>();
        return builder;
    }
}
