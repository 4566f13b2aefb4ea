using Serverless.Core.Training;

namespace Serverless.Orchestrations.Activities;

/// <summary>Writes the deterministic train / validation / test split of a dataset version.</summary>
public sealed class SplitDataset(ModelTrainer trainer) : PipelineActivity<SplitInput, SplitRefs>
{
    public override Task<SplitRefs> RunAsync(SplitInput input, CancellationToken cancellationToken) =>
        trainer.SplitAsync(input.Model, input.DatasetVersion, input.Seed, input.TimeColumn, cancellationToken);
}

/// <summary>Trains one candidate on the train split and scores it on validation; the run is recorded either way.</summary>
public sealed class TrainCandidate(ModelTrainer trainer) : PipelineActivity<CandidateInput, CandidateResult>
{
    public override Task<CandidateResult> RunAsync(CandidateInput input, CancellationToken cancellationToken) =>
        trainer.TrainCandidateAsync(input, cancellationToken);
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
