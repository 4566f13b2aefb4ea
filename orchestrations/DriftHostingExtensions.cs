using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Monitoring;

namespace Serverless.Orchestrations;

/// <summary>Registers drift detection, its reports, its timer logic and its HTTP handlers; both hosts call it.</summary>
public static class DriftHostingExtensions
{
    public static IHostApplicationBuilder AddPipelineDrift(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DriftOptions>().BindConfiguration(DriftOptions.Section);
        builder.Services.TryAddSingleton<PredictionLogReader>();
        builder.Services.AddSingleton<DriftInputs>();
        builder.Services.AddSingleton<DriftChecker>();
        builder.Services.AddSingleton<DriftStore>();
        builder.Services.AddSingleton<FeedbackRowsWriter>();
        builder.Services.AddSingleton<DriftMonitor>();
        builder.Services.AddSingleton<DriftTimer>();
        builder.Services.AddSingleton<DriftApi>();
        return builder;
    }
}
