using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>
/// The winner of a run's candidates: the best by the metric, or a candidate cheaper to score whose shortfall is within
/// the paired standard error of the folds or validation parts.
/// </summary>
public sealed class CandidateChoiceTests
{
    private static CandidateResult Candidate(string trainer, double metric, double? cost, double[]? parts, string name = "rmse", string set = "validation") =>
        new($"run-{trainer}", new CandidateSpec(trainer, new Dictionary<string, double>()), true, new Dictionary<string, double> { [name] = metric },
            $"{trainer}/model.zip", 1,
            Selection: new SelectionMeasure(set, 1000, parts?.Select(p => new FoldScore(100, new Dictionary<string, double> { [name] = p })).ToList(), ScoringCost: cost));

    // Part scores of the best and of a rival that trails it by 0.01 on average with a spread that chance explains.
    private static readonly double[] BestParts = [1.00, 1.10, 0.95, 1.05, 1.00, 0.90, 1.10, 1.00, 0.95, 1.05];
    private static readonly double[] NoisyRival = [1.05, 1.05, 1.00, 1.00, 1.03, 0.92, 1.05, 1.04, 0.97, 1.09];

    [Fact]
    public void Choose_CheaperCandidateWithinNoise_WinsAndTheNoteSaysWhy()
    {
        var best = Candidate("LightGbm", 1.000, 2800, BestParts);
        var cheap = Candidate("FastTree", 1.010, 500, NoisyRival);

        var choice = CandidateChoice.Choose("rmse", [best, cheap], simplerWithin: 1);

        Assert.Same(cheap, choice.Winner);
        Assert.Same(best, choice.Best);
        Assert.Contains("FastTree", choice.Note);
        Assert.Contains("chosen over LightGbm", choice.Note);
        Assert.Contains("10 parts of the validation split", choice.Note);
        Assert.Contains("18%", choice.Note);
        Assert.Contains("500 against 2800 tree splits", choice.Note);
    }

    [Fact]
    public void Choose_LinearModelAgainstTrees_SaysUnderOnePercentRatherThanZero()
    {
        var best = Candidate("LightGbm", 1.000, 694, BestParts);
        var linear = Candidate("Sdca", 1.010, 1, NoisyRival);

        var choice = CandidateChoice.Choose("rmse", [best, linear], simplerWithin: 1);

        Assert.Same(linear, choice.Winner);
        Assert.Contains("costs under 1% as much", choice.Note);
        Assert.DoesNotContain(" 0%", choice.Note);
    }

    [Fact]
    public void Choose_ModelWithoutASplitWithinNoise_IsNotChosen()
    {
        // Trees without a split answer every row alike: the rule weighs cheaper models, not the constant baseline.
        var best = Candidate("LightGbm", 1.000, 2800, BestParts);
        var constant = Candidate("FastTree", 1.005, 0, NoisyRival);
        var linear = Candidate("Sdca", 1.010, 1, NoisyRival);

        Assert.Same(best, CandidateChoice.Choose("rmse", [best, constant], simplerWithin: 1).Winner);
        Assert.Same(linear, CandidateChoice.Choose("rmse", [best, constant, linear], simplerWithin: 1).Winner);
    }

    [Fact]
    public void Choose_ACheaperCandidateScoringBetterThanTheOneWithinNoise_WinsThoughItsOwnErrorIsTooSteadyToPass()
    {
        // The forest trails by 0.010 with a spread that chance explains; the small LightGbm trails by 0.008 on every part
        // alike (no spread: its own test fails), costs less than the forest and scores better: the forest, a model both
        // dearer and worse, is never the choice. A linear model steadily further behind than the forest stays out.
        var best = Candidate("LightGbm63", 1.000, 12037, BestParts);
        var forest = Candidate("FastForest", 1.010, 6118, NoisyRival);
        var small = Candidate("LightGbm31", 1.008, 2985, [.. BestParts.Select(p => p + 0.008)]);
        var linear = Candidate("Sdca", 1.015, 1, [.. BestParts.Select(p => p + 0.015)]);

        var choice = CandidateChoice.Choose("rmse", [best, forest, small, linear], simplerWithin: 1);
        var withoutSmall = CandidateChoice.Choose("rmse", [best, forest, linear], simplerWithin: 1);

        Assert.Same(small, choice.Winner);
        Assert.Same(best, choice.Best);
        Assert.StartsWith("LightGbm31 chosen over LightGbm63, the best on validation rmse (1 against 1.008): FastForest, which costs more, trails the best as far or further (1.01)", choice.Note);
        Assert.Contains("this candidate scores at least as well as that one, and it costs 25% as much to score a row (2985 against 12037 tree splits).", choice.Note);
        Assert.Same(forest, withoutSmall.Winner);
        Assert.Contains("the gap is within 1 standard error(s)", withoutSmall.Note);
    }

    [Fact]
    public void Choose_CheaperCandidateTrailingOnEveryPart_LosesToTheBest()
    {
        var best = Candidate("LightGbm", 1.000, 2800, BestParts);
        var worse = Candidate("FastTree", 1.020, 500, [.. BestParts.Select(p => p + 0.02 + 0.001 * p)]);

        var choice = CandidateChoice.Choose("rmse", [best, worse], simplerWithin: 1);

        Assert.Same(best, choice.Winner);
        Assert.Null(choice.Note);
    }

    [Fact]
    public void Choose_WithinZero_TheBestAlwaysWins()
    {
        var best = Candidate("LightGbm", 1.000, 2800, BestParts);
        var cheap = Candidate("FastTree", 1.010, 500, NoisyRival);

        Assert.Same(best, CandidateChoice.Choose("rmse", [cheap, best], simplerWithin: 0).Winner);
    }

    [Fact]
    public void Choose_HigherIsBetterMetric_ShortfallIsMeasuredDownwards()
    {
        var best = Candidate("LightGbm", 0.90, 2800, [.. BestParts.Select(p => 1.8 - p)], "auc", "cv10");
        var cheap = Candidate("Sdca", 0.89, 1, [.. NoisyRival.Select(p => 1.8 - p)], "auc", "cv10");
        var worseButCheaper = Candidate("FastForest", 0.80, 400, [.. BestParts.Select(p => 1.7 - p)], "auc", "cv10");

        var choice = CandidateChoice.Choose("auc", [worseButCheaper, best, cheap], simplerWithin: 1);

        Assert.Same(cheap, choice.Winner);
        Assert.Contains("10 folds", choice.Note);
        // A higher score is no shortfall: the best is the best.
        Assert.Same(best, choice.Best);
    }

    [Fact]
    public void Choose_TheCheapestOfSeveralWithinNoise_Wins()
    {
        var best = Candidate("LightGbm", 1.000, 2800, BestParts);
        var cheaper = Candidate("FastTree", 1.005, 900, [.. NoisyRival.Select(p => p - 0.005)]);
        var cheapest = Candidate("Sdca", 1.010, 1, NoisyRival);

        Assert.Same(cheapest, CandidateChoice.Choose("rmse", [best, cheaper, cheapest], simplerWithin: 1).Winner);
    }

    [Fact]
    public void Choose_WithoutPartsOrCost_TheBestWins()
    {
        var best = Candidate("LightGbm", 1.000, 2800, BestParts);

        Assert.Same(best, CandidateChoice.Choose("rmse", [best, Candidate("FastTree", 1.010, 500, null)], 1).Winner);
        Assert.Same(best, CandidateChoice.Choose("rmse", [best, Candidate("FastTree", 1.010, null, NoisyRival)], 1).Winner);
        var unknownCost = Candidate("LightGbm", 1.000, null, BestParts);
        Assert.Same(unknownCost, CandidateChoice.Choose("rmse", [unknownCost, Candidate("FastTree", 1.010, 500, NoisyRival)], 1).Winner);
        // Fewer than three paired scores give no standard error to trust.
        var twoParts = Candidate("LightGbm", 1.000, 2800, [1.0, 1.1]);
        Assert.Same(twoParts, CandidateChoice.Choose("rmse", [twoParts, Candidate("FastTree", 1.010, 500, [1.1, 1.0])], 1).Winner);
    }

    [Fact]
    public void Choose_PartsOfDifferentRowsOrSets_AreNotPaired()
    {
        var best = Candidate("LightGbm", 1.000, 2800, BestParts);
        var otherSet = Candidate("FastTree", 1.010, 500, NoisyRival, set: "cv10");
        var otherRows = Candidate("Sdca", 1.010, 1, NoisyRival) is var r
            ? r with { Selection = r.Selection! with { Folds = [.. r.Selection.Folds!.Select((f, i) => i == 0 ? f with { Rows = 99 } : f)] } }
            : r;

        Assert.Same(best, CandidateChoice.Choose("rmse", [best, otherSet, otherRows], 1).Winner);
    }

    [Fact]
    public void Gap_IsTheShortfallAndTheStandardErrorOfThePairedDifferences()
    {
        var best = Candidate("LightGbm", 1.000, 2800, BestParts);
        var rival = Candidate("FastTree", 1.010, 500, NoisyRival);
        var differences = NoisyRival.Zip(BestParts, (a, b) => a - b).ToArray();
        var mean = differences.Average();
        var standardError = Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (differences.Length - 1) / differences.Length);

        var gap = CandidateChoice.Gap("rmse", rival, best)!.Value;

        Assert.Equal(0.010, gap.Shortfall, 12);
        Assert.Equal(standardError, gap.StandardError, 12);
        Assert.Equal(10, gap.Pairs);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(149, 0)]
    [InlineData(150, 3)]
    [InlineData(450, 9)]
    [InlineData(3_000, 10)]
    [InlineData(15_000, 10)]
    public void PartsFor_AtMostTenOfAtLeastFiftyRows_NoneBelowThree(long rows, int parts)
    {
        Assert.Equal(parts, SelectionMeasure.PartsFor(rows));
    }
}
