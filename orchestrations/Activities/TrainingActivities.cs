using Serverless.Core.Registry;
using Serverless.Core.Tracking;
using Serverless.Core.Training;

namespace Serverless.Orchestrations.Activities;

/// <summary>
/// Writes the deterministic train / validation / test split of a dataset version. The data's sha256 is checked as it is
/// read; a mismatch is audited as an integrity failure and fails the run.
/// </summary>
public sealed class SplitDataset(ModelTrainer trainer, AuditLog audit) : PipelineActivity<SplitInput, SplitRefs>
{
    public override async Task<SplitRefs> RunAsync(SplitInput input, CancellationToken cancellationToken)
    {
        try
        {
            return await trainer.SplitAsync(input.Model, input.DatasetVersion, input.Seed, input.TimeColumn, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            await audit.RecordAsync(AuditActions.IntegrityFailure, input.Model, AuditActors.Training, e.Message, new { input.DatasetVersion }, cancellationToken);
            throw;
        }
    }
}

/// <summary>
/// Audits the start or the end of a training run, with its trigger, actor and outcome. The end is recorded once
/// (<see cref="RunEnd"/>): a run a person terminated is recorded as terminated by the terminate route, not by the run.
/// </summary>
public sealed class RecordTrainingEvent(AuditLog audit, ModelRegistry registry, Core.Storage.PipelineStorage storage) : PipelineActivity<TrainingAuditInput, bool>
{
    public override async Task<bool> RunAsync(TrainingAuditInput input, CancellationToken cancellationToken)
    {
        if (input.Action == AuditActions.TrainingEnded
            && (await registry.IsTerminatedAsync(input.Model, input.InstanceId, cancellationToken)
                || !await RunEnd.ClaimAsync(storage, input.Model, input.InstanceId, input.Actor, cancellationToken)))
        {
            return false;
        }
        await audit.RecordAsync(input.Action, input.Model, input.Actor, input.Reason, input.Details, cancellationToken);
        return true;
    }
}

/// <summary>Trains one candidate on the train split and scores it (on validation, or by cross-validation on small data); the run is recorded either way.</summary>
/// <remarks>
/// The engine still delivers a candidate scheduled before a person terminated its run: such a candidate is not trained
/// (or, when the terminate came while it trained, not kept), and is recorded as cancelled rather than succeeded.
/// </remarks>
public sealed class TrainCandidate(ModelTrainer trainer, ModelRegistry registry, ExperimentRuns runs) : PipelineActivity<CandidateInput, CandidateResult>
{
    public override async Task<CandidateResult> RunAsync(CandidateInput input, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        if (await registry.IsTerminatedAsync(input.Model, input.OrchestrationId, cancellationToken))
        {
            return await CancelledAsync(input, started, null, $"not trained: run {input.OrchestrationId} was terminated before this candidate started", cancellationToken);
        }
        var result = await trainer.TrainCandidateAsync(input, cancellationToken);
        return await registry.IsTerminatedAsync(input.Model, input.OrchestrationId, cancellationToken)
            ? await CancelledAsync(input, started, result, $"not kept: run {input.OrchestrationId} was terminated while this candidate trained", cancellationToken)
            : result;
    }

    private async Task<CandidateResult> CancelledAsync(CandidateInput input, DateTimeOffset started, CandidateResult? trained, string why, CancellationToken ct)
    {
        var metrics = trained?.ValidationMetrics ?? new Dictionary<string, double>();
        await runs.RecordAsync(new ExperimentRun(input.Model, input.RunId, input.OrchestrationId, input.DatasetVersion, input.Candidate.Trainer,
            input.Candidate.Parameters, metrics, Serverless.Core.Tracking.RunStatus.Cancelled, (DateTimeOffset.UtcNow - started).TotalMilliseconds, started, why, Selection: trained?.Selection), ct);
        return new CandidateResult(input.RunId, input.Candidate, false, metrics, null, trained?.DurationMs ?? 0, why);
    }
}

/// <summary>Scores a stored model on a split.</summary>
public sealed class EvaluateModel(ModelTrainer trainer) : PipelineActivity<EvaluationInput, EvaluationResult>
{
    public override Task<EvaluationResult> RunAsync(EvaluationInput input, CancellationToken cancellationToken) =>
        trainer.EvaluateAsync(input, cancellationToken);
}

/// <summary>Scores the deterministic baseline (mean or majority class, fitted on train) on the test split.</summary>
public sealed class EvaluateBaseline(ModelTrainer trainer) : PipelineActivity<BaselineInput, EvaluationResult>
{
    public override Task<EvaluationResult> RunAsync(BaselineInput input, CancellationToken cancellationToken) =>
        trainer.EvaluateBaselineAsync(input.Model, input.DatasetVersion, input.Splits, cancellationToken);
}

/// <summary>Refits the winning candidate on train plus validation, with its parameters and seed; the model registered.</summary>
public sealed class RefitWinner(ModelTrainer trainer) : PipelineActivity<RefitInput, ModelFit>
{
    public override Task<ModelFit> RunAsync(RefitInput input, CancellationToken cancellationToken) =>
        trainer.RefitAsync(input, cancellationToken);
}

/// <summary>Writes the test rows of a run that its champion was not fit on, so the two are compared on rows neither saw.</summary>
public sealed class PrepareComparison(ModelTrainer trainer) : PipelineActivity<ComparisonInput, ComparisonSet>
{
    public override Task<ComparisonSet> RunAsync(ComparisonInput input, CancellationToken cancellationToken) =>
        trainer.PrepareComparisonAsync(input, cancellationToken);
}
