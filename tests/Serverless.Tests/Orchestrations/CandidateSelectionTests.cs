using Serverless.Core.Training;
using Serverless.Orchestrations;
using Serverless.Orchestrations.Activities;

namespace Serverless.Tests.Orchestrations;

/// <summary>
/// How the real <see cref="TrainingOrchestrator"/> asks its candidates to be scored (stub activities): by k-fold
/// cross-validation when train and validation are small, on the validation split above the plan's row limit.
/// </summary>
public sealed class CandidateSelectionTests
{
    [Fact]
    public async Task RunAsync_TrainAndValidationWithinTheRowLimit_ScoresEveryCandidateByTheSameFolds()
    {
        await using var run = new StubbedTrainingRun();
        // The stub's split: 700 train and 150 validation rows.
        run.Plan = run.Plan with { CrossValidationFolds = 5, CrossValidationMaxRows = 850 };

        var outcome = StubbedTrainingRun.Outcome(await run.RunToCompletionAsync());

        Assert.All(run.InputsOf<CandidateInput>(nameof(TrainCandidate)), c => Assert.Equal(5, c.CrossValidationFolds));
        Assert.All(outcome.Candidates, c => Assert.Equal("cv5", c.Selection!.Set));
        Assert.Equal("cv5", Assert.Single(run.InputsOf<RegisterInput>(nameof(RegisterModel))).Winner.Selection!.Set);
    }

    [Fact]
    public async Task RunAsync_TrainAndValidationAboveTheRowLimit_ScoresCandidatesOnValidation()
    {
        await using var run = new StubbedTrainingRun();
        run.Plan = run.Plan with { CrossValidationFolds = 5, CrossValidationMaxRows = 849 };

        var outcome = StubbedTrainingRun.Outcome(await run.RunToCompletionAsync());

        Assert.All(run.InputsOf<CandidateInput>(nameof(TrainCandidate)), c => Assert.Equal(0, c.CrossValidationFolds));
        Assert.All(outcome.Candidates, c => Assert.Equal(SelectionSets.Validation, c.Selection!.Set));
    }
}
