using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Workflows;
using Serverless.Core.Workflows.Durable;

namespace Serverless.Core.Hosting;

/// <summary>Registration of the durable local workflow engine: the <see cref="IWorkflowClient"/> and its background worker.</summary>
public static class DurableWorkflowHostingExtensions
{
    public static IHostApplicationBuilder AddDurableWorkflows(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DurableWorkflowOptions>().BindConfiguration(DurableWorkflowOptions.Section);
        builder.Services.AddSingleton<DurableWorkflowEngine>();
        builder.Services.AddSingleton<IWorkflowClient>(sp => sp.GetRequiredService<DurableWorkflowEngine>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DurableWorkflowEngine>());
        return builder;
    }
}
