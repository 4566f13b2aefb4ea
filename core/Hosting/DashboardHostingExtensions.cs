using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Api;
using Serverless.Core.Dashboard;
using Serverless.Core.Datasets;

namespace Serverless.Core.Hosting;

/// <summary>Registration of the dashboard page and the quarantine listing it shows; both hosts call it.</summary>
public static class DashboardHostingExtensions
{
    public static IHostApplicationBuilder AddPipelineDashboard(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DashboardPage>();
        builder.Services.TryAddSingleton<QuarantineStore>();
        builder.Services.AddSingleton<QuarantineApi>();
        return builder;
    }
}
