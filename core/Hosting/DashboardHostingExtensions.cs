using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Api;
using Serverless.Core.Dashboard;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;

namespace Serverless.Core.Hosting;

/// <summary>Registration of the dashboard page and what it shows beside the models API (quarantine, drift histograms); both hosts call it.</summary>
public static class DashboardHostingExtensions
{
    public static IHostApplicationBuilder AddPipelineDashboard(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DashboardPage>();
        builder.Services.TryAddSingleton<QuarantineStore>();
        builder.Services.AddSingleton<QuarantineApi>();
        builder.Services.AddSingleton<DriftHistograms>();
        builder.Services.AddSingleton<DriftHistogramApi>();
        return builder;
    }
}
