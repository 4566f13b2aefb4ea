using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Workflows;
using Serverless.Orchestrations.Activities;

namespace Serverless.Orchestrations;

/// <summary>Registers the training workflow, its activities and the drop-zone handler; both hosts call it.</summary>
public static class OrchestrationHostingExtensions
{
    public static IHostApplicationBuilder AddPipelineOrchestrations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DropZone>();
        builder.Services.AddWorkflow<TrainingOrchestrator>();
        builder.Services.AddWorkflowActivity<LoadTrainingPlan>();
        builder.Services.AddWorkflowActivity<ValidateDataset>();
        builder.Services.AddWorkflowActivity<SplitDataset>();
        builder.Services.AddWorkflowActivity<TrainCandidate>();
        builder.Services.AddWorkflowActivity<EvaluateModel>();
        builder.Services.AddWorkflowActivity<EvaluateBaseline>();
        builder.Services.AddWorkflowActivity<RegisterModel>();
        builder.Services.AddWorkflowActivity<SetVersionStatus>();
        builder.Services.AddWorkflowActivity<PromoteModel>();
        return builder;
    }
}
