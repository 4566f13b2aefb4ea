using Serverless.Core.Hosting;
using Serverless.Core.Workflows;
using Serverless.Core.Workflows.InProcess;

namespace Serverless.LocalHost;

/// <summary>
/// Chooses the local workflow engine: the durable engine (state in tables, resumes after a crash) by default, or the
/// in-process runner with <c>Pipeline:Workflows:Engine=InProcess</c>.
/// </summary>
public static class LocalWorkflowEngineExtensions
{
    public static IHostApplicationBuilder AddLocalWorkflowEngine(this IHostApplicationBuilder builder)
    {
        if (string.Equals(builder.Configuration["Pipeline:Workflows:Engine"], "InProcess", StringComparison.OrdinalIgnoreCase))
        {
            builder.Services.AddSingleton<InProcessWorkflowEngine>();
            builder.Services.AddSingleton<IWorkflowClient>(sp => sp.GetRequiredService<InProcessWorkflowEngine>());
            return builder;
        }
        return builder.AddDurableWorkflows();
    }
}
