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

    /// <summary>The stub's validation split (150 rows) in 10 parts: FastTree's and Sdca's rmse on each.</summary>
    private static SelectionMeasure OnParts(double cost, params double[] parts) =>
        SelectionMeasure.OnValidation(150, [.. parts.Select(p => new FoldScore(15, new Dictionary<string, double> { ["rmse"] = p }))]) with { ScoringCost = cost };

    private static readonly double[] FastTreeParts = [2.0, 2.2, 1.9, 2.1, 2.0, 1.8, 2.2, 2.0, 1.9, 2.1];

    [Fact]
    public async Task RunAsync_CheaperCandidateWithinNoiseOfTheBest_IsTheWinner_RefitAndRegistered_AndTheNotesSayWhy()
    {
        await using var run = new StubbedTrainingRun();
        run.Plan = run.Plan with { SimplerWithin = 1 };
        run.ValidationRmse["Sdca"] = 2.02;
        run.Selections["FastTree"] = OnParts(1500, FastTreeParts);
        run.Selections["Sdca"] = OnParts(1, [.. FastTreeParts.Select((p, i) => p + (i % 2 == 0 ? 0.12 : -0.08))]);
        run.TestMetrics[StubbedTrainingRun.RefitBlob("Sdca")] = StubbedTrainingRun.Scores(rmse: 2.05, r2: 0.89);

        var outcome = StubbedTrainingRun.Outcome(await run.RunToCompletionAsync());

        Assert.Equal(TrainingStatus.Promoted, outcome.Status);
        Assert.Equal(StubbedTrainingRun.Sdca.ToString(), outcome.Winner);
        Assert.Equal("Sdca", Assert.Single(run.InputsOf<RefitInput>(nameof(RefitWinner))).Candidate.Trainer);
        Assert.Equal("Sdca", Assert.Single(run.InputsOf<RegisterInput>(nameof(RegisterModel))).Winner.Candidate.Trainer);
        Assert.Contains(outcome.Notes, n => n.StartsWith("Sdca chosen over FastTree", StringComparison.Ordinal) && n.Contains("(1 against 1500 tree splits)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_CheaperCandidateTrailingBeyondNoise_OrRuleTurnedOff_TheBestWins()
    {
        foreach (var (within, sdcaParts) in new[] { (1.0, FastTreeParts.Select(p => p + 0.02).ToArray()), (0.0, FastTreeParts.Select((p, i) => p + (i % 2 == 0 ? 0.12 : -0.08)).ToArray()) })
        {
            await using var run = new StubbedTrainingRun();
            run.Plan = run.Plan with { SimplerWithin = within };
            run.ValidationRmse["Sdca"] = 2.02;
            run.Selections["FastTree"] = OnParts(1500, FastTreeParts);
            run.Selections["Sdca"] = OnParts(1, sdcaParts);

            var outcome = StubbedTrainingRun.Outcome(await run.RunToCompletionAsync());

            Assert.Equal(StubbedTrainingRun.FastTree.ToString(), outcome.Winner);
            Assert.DoesNotContain(outcome.Notes, n => n.Contains("chosen over", StringComparison.Ordinal));
        }
    }
}
