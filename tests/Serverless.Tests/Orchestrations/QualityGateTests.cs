using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Orchestrations;

namespace Serverless.Tests.Orchestrations;

public sealed class QualityGateTests
{
    private static TrainingPlan Plan(string metric = "rmse", Dictionary<string, double>? minimums = null, double tolerance = 0.01) => new(
        "m", "ds", "sha", TaskKind.Regression, metric, 42, null, [], minimums ?? [], tolerance, ApprovalMode.Auto, TimeSpan.FromHours(1), "v1", "m/v1/model.zip");

    private static EvaluationResult Scores(params (string Name, double Value)[] metrics) =>
        new("blob", metrics.ToDictionary(m => m.Name, m => m.Value), 100);

    /// <summary>Challenger and champion scored on the same 80 rows, 20 the champion was fit on left out.</summary>
    private static ChampionScores Vs(EvaluationResult challenger, EvaluationResult champion) =>
        new(new ComparisonSet("v1", "m/ds/test-unseen-by-v1.csv", 80, 20, ChampionRowsKnown: true), "ds", challenger, champion);

    [Fact]
    public void Check_WinnerBeatsBaseline_Passes()
    {
        var result = QualityGate.Check(Plan(), Scores(("rmse", 2.0), ("r2", 0.9)), Scores(("rmse", 9.0)), champion: null);

        Assert.True(result.Passed);
        Assert.False(result.TrailsChampion);
    }

    /// <summary>A winner ahead of the baseline by less than four significant digits show: the note prints as many as tell them apart.</summary>
    [Fact]
    public void Check_WinnerAheadOfTheBaselineInTheFifthDigit_SaysByHowMuch()
    {
        var result = QualityGate.Check(Plan(), Scores(("rmse", 0.389213)), Scores(("rmse", 0.389241)), champion: null);

        Assert.Contains("Beats the baseline on rmse: 0.38921 against 0.38924.", result.Notes);
        Assert.Equal(("2", "2"), Metrics.Apart(2.0, 2.0));
        Assert.Equal(("1.5", "2"), Metrics.Apart(1.5, 2.0));
    }

    [Fact]
    public void Check_WinnerNoBetterThanBaseline_Fails()
    {
        var result = QualityGate.Check(Plan(), Scores(("rmse", 9.0)), Scores(("rmse", 9.0)), champion: null);

        Assert.False(result.Passed);
        Assert.Contains(result.Notes, n => n.Contains("baseline", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(-0.0094, false)]
    [InlineData(0.0, false)]
    [InlineData(0.02, true)]
    public void Check_RegressionBeatsTheTrainMeanButNotTheTestMean_Fails(double r2, bool passes)
    {
        // The noise run's numbers: rmse 14.92 against the train mean's 14.99, r² below 0 on test.
        var result = QualityGate.Check(Plan(), Scores(("rmse", 14.92), (Metrics.R2, r2)), Scores(("rmse", 14.99)), champion: null);

        Assert.Equal(passes, result.Passed);
        Assert.Contains(result.Notes, n => n.StartsWith("Beats the baseline on rmse", StringComparison.Ordinal));
        Assert.Equal(!passes, result.Notes.Any(n => n.Contains("does not beat the baseline of the test rows' own mean", StringComparison.Ordinal)));
    }

    [Fact]
    public void Check_ClassifierWithoutR2_IsJudgedOnTheBaselineAlone()
    {
        var plan = Plan("auc") with { Task = TaskKind.Binary };

        Assert.True(QualityGate.Check(plan, Scores(("auc", 0.8)), Scores(("auc", 0.5)), champion: null).Passed);
    }

    [Theory]
    [InlineData(TaskKind.Binary, "auc", 0.53, 0.5, 0.31, false)]
    [InlineData(TaskKind.Binary, "auc", 0.53, 0.5, 0.051, false)]
    [InlineData(TaskKind.Binary, "auc", 0.81, 0.5, 0.001, true)]
    [InlineData(TaskKind.Multiclass, "macroAccuracy", 0.36, 0.3333, 0.42, false)]
    [InlineData(TaskKind.Multiclass, "macroAccuracy", 0.9, 0.3333, 0.001, true)]
    [InlineData(TaskKind.Regression, "rmse", 14.90, 14.99, 0.2, false)]
    [InlineData(TaskKind.Regression, "rmse", 3.1, 14.99, 0.001, true)]
    public void Check_WinnerAboveTheBaseline_MustAlsoBeatChance(TaskKind task, string metric, double value, double baseline, double p, bool passes)
    {
        var plan = Plan(metric) with { Task = task };

        var result = QualityGate.Check(plan, Scores((metric, value)) with { ChancePValue = p }, Scores((metric, baseline)), champion: null);

        Assert.Equal(passes, result.Passed);
        Assert.Contains(result.Notes, n => n.StartsWith($"Beats the baseline on {metric}", StringComparison.Ordinal));
        Assert.Equal(!passes, result.Notes.Any(n => n.StartsWith($"Gate: {metric} = ", StringComparison.Ordinal) && n.Contains("shuffles of their labels", StringComparison.Ordinal)));
        Assert.Equal(passes, result.Notes.Any(n => n.StartsWith(QualityGate.NotChance, StringComparison.Ordinal)));
    }

    [Fact]
    public void Check_MinimumOnHigherIsBetterMetricMissed_Fails()
    {
        var result = QualityGate.Check(Plan(minimums: new() { ["r2"] = 0.95 }), Scores(("rmse", 2.0), ("r2", 0.9)), Scores(("rmse", 9.0)), null);

        Assert.False(result.Passed);
        Assert.Contains(result.Notes, n => n.Contains("r2", StringComparison.Ordinal) && n.Contains("at least", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_MaximumOnErrorMetricMet_Passes()
    {
        var result = QualityGate.Check(Plan(minimums: new() { ["rmse"] = 3.0 }), Scores(("rmse", 2.0)), Scores(("rmse", 9.0)), null);

        Assert.True(result.Passed);
    }

    [Fact]
    public void Check_MinimumOnUnreportedMetric_Fails()
    {
        var result = QualityGate.Check(Plan(minimums: new() { ["auc"] = 0.7 }), Scores(("rmse", 2.0)), Scores(("rmse", 9.0)), null);

        Assert.False(result.Passed);
    }

    [Theory]
    [InlineData(1.50, false, "against champion v1 (2): better by 25.0 %, on 80 test rows")]
    [InlineData(2.00, false, "against champion v1 (2): as good, on 80 test rows")]
    [InlineData(2.01, false, "against champion v1 (2): trails by 0.5 %, within the 1.0 % allowed, on 80 test rows")]
    [InlineData(2.05, true, "trails champion v1 (2) by 2.5 %, more than the 1.0 % allowed, on 80 test rows")]
    public void Check_ChallengerAgainstChampion_TrailsOnlyBeyondTolerance_AndTheNoteSaysByHowMuch(double challengerRmse, bool trails, string note)
    {
        var result = QualityGate.Check(Plan(tolerance: 0.01), Scores(("rmse", 5.0)), Scores(("rmse", 9.0)), Vs(Scores(("rmse", challengerRmse)), Scores(("rmse", 2.0))));

        Assert.True(result.Passed);
        Assert.Equal(trails, result.TrailsChampion);
        Assert.Equal((challengerRmse, 2.0, 0.01, trails), (result.Comparison!.Challenger, result.Comparison.Champion, result.Comparison.Tolerance, result.Comparison.ChallengerTrails));
        Assert.Equal(("test rows unseen by v1", 80L, 20L), (result.Comparison.MeasuredOn.Set, result.Comparison.MeasuredOn.Rows, result.Comparison.ExcludedRows));
        Assert.Contains(result.Notes, n => n.Contains(note, StringComparison.Ordinal));
    }

    [Fact]
    public void Check_HigherIsBetterChallengerBelowChampion_Trails()
    {
        var plan = Plan(metric: "auc") with { Task = TaskKind.Binary };

        var result = QualityGate.Check(plan, Scores(("auc", 0.80)), Scores(("auc", 0.5)), Vs(Scores(("auc", 0.80)), Scores(("auc", 0.90))));

        Assert.True(result.TrailsChampion);
    }
}
