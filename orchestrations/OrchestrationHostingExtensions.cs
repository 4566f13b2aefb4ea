using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Orchestrations.Activities;

namespace Serverless.Orchestrations;

/// <summary>Registers the training workflow, its activities and the drop-zone handler; both hosts call it.</summary>
public static class OrchestrationHostingExtensions
{
    public static IHostApplicationBuilder AddPipelineOrchestrations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DropZone>();
        builder.Services.AddSingleton<PurgedRuns>();
        builder.Services.AddSingleton<RunsApi>();
        builder.Services.AddSingleton(DurablePayloads.Converter);
        return builder;
    }

    /// <summary>The orchestrator and activities of the training workflow, for a Durable Task worker's registry.</summary>
    public static DurableTaskRegistry AddTrainingWorkflow(this DurableTaskRegistry registry) => registry
        .AddOrchestrator<TrainingOrchestrator>()
        .AddActivity<LoadTrainingPlan>()
        .AddActivity<ValidateDataset>()
        .AddActivity<SplitDataset>()
        .AddActivity<AddFeedbackRows>()
        .AddActivity<TrainCandidate>()
        .AddActivity<EvaluateModel>()
        .AddActivity<EvaluateBaseline>()
        .AddActivity<RefitWinner>()
        .AddActivity<PrepareComparison>()
        .AddActivity<RegisterModel>()
        .AddActivity<SetVersionStatus>()
        .AddActivity<PromoteModel>()
        .AddActivity<RecordChampionRetained>()
        .AddActivity<RecordTrainingEvent>();
}
