using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Training;
using Serverless.Orchestrations;
using Serverless.Orchestrations.Activities;

namespace Serverless.Functions.Triggers;

/// <summary>
/// The training workflow on Durable Functions: one-line trampolines to the orchestrator and activity classes the local
/// host's engine runs, under the names <see cref="OrchestrationHostingExtensions.AddTrainingWorkflow"/> registers.
/// </summary>
public sealed class TrainingFunctions
{
    [Function(nameof(TrainingOrchestrator))]
    public Task<TrainingOutcome> RunTrainingOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context, TrainingRequest input) =>
        new TrainingOrchestrator().RunAsync(context, input);

    [Function(nameof(LoadTrainingPlan))]
    public Task<TrainingPlan> RunLoadTrainingPlan([ActivityTrigger] TrainingRequest input, FunctionContext context) =>
        Run<LoadTrainingPlan, TrainingRequest, TrainingPlan>(input, context);

    [Function(nameof(ValidateDataset))]
    public Task<DatasetCheck> RunValidateDataset([ActivityTrigger] DatasetRef input, FunctionContext context) =>
        Run<ValidateDataset, DatasetRef, DatasetCheck>(input, context);

    [Function(nameof(SplitDataset))]
    public Task<SplitRefs> RunSplitDataset([ActivityTrigger] SplitInput input, FunctionContext context) =>
        Run<SplitDataset, SplitInput, SplitRefs>(input, context);

    [Function(nameof(AddFeedbackRows))]
    public Task<SplitRefs> RunAddFeedbackRows([ActivityTrigger] FeedbackSplitInput input, FunctionContext context) =>
        Run<AddFeedbackRows, FeedbackSplitInput, SplitRefs>(input, context);

    [Function(nameof(TrainCandidate))]
    public Task<CandidateResult> RunTrainCandidate([ActivityTrigger] CandidateInput input, FunctionContext context) =>
        Run<TrainCandidate, CandidateInput, CandidateResult>(input, context);

    [Function(nameof(EvaluateModel))]
    public Task<EvaluationResult> RunEvaluateModel([ActivityTrigger] EvaluationInput input, FunctionContext context) =>
        Run<EvaluateModel, EvaluationInput, EvaluationResult>(input, context);

    [Function(nameof(EvaluateBaseline))]
    public Task<EvaluationResult> RunEvaluateBaseline([ActivityTrigger] BaselineInput input, FunctionContext context) =>
        Run<EvaluateBaseline, BaselineInput, EvaluationResult>(input, context);

    [Function(nameof(RegisterModel))]
    public Task<RegisteredVersion> RunRegisterModel([ActivityTrigger] RegisterInput input, FunctionContext context) =>
        Run<RegisterModel, RegisterInput, RegisteredVersion>(input, context);

    [Function(nameof(SetVersionStatus))]
    public Task<RegisteredVersion> RunSetVersionStatus([ActivityTrigger] VersionStatusInput input, FunctionContext context) =>
        Run<SetVersionStatus, VersionStatusInput, RegisteredVersion>(input, context);

    [Function(nameof(PromoteModel))]
    public Task<PromotionResult> RunPromoteModel([ActivityTrigger] PromoteInput input, FunctionContext context) =>
        Run<PromoteModel, PromoteInput, PromotionResult>(input, context);

    [Function(nameof(RecordChampionRetained))]
    public Task<RegisteredVersion> RunRecordChampionRetained([ActivityTrigger] ChampionRetainedInput input, FunctionContext context) =>
        Run<RecordChampionRetained, ChampionRetainedInput, RegisteredVersion>(input, context);

    /// <summary>Runs the activity class with the function's services and cancellation token.</summary>
    private static Task<TOutput> Run<TActivity, TInput, TOutput>(TInput input, FunctionContext context)
        where TActivity : PipelineActivity<TInput, TOutput> =>
        ActivatorUtilities.CreateInstance<TActivity>(context.InstanceServices).RunAsync(input, context.CancellationToken);
}
