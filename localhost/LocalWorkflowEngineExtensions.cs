using Serverless.Core.Workflows;
using Serverless.Core.Workflows.InProcess;

namespace Serverless.LocalHost;

/// <summary>Chooses the local workflow engine.</summary>
public static class LocalWorkflowEngineExtensions
{
    public static IHostApplicationBuilder AddLocalWorkflowEngine(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InProcessWorkflowEngine>();
        builder.Services.AddSingleton<IWorkflowClient>(sp => sp.GetRequiredService<InProcessWorkflowEngine>());
        return builder;
    }
}
