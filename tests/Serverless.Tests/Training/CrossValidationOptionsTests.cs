using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>The cross-validation settings: when they apply, and bad values refused naming the setting.</summary>
public sealed class CrossValidationOptionsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(21)]
    public void Validate_FoldsOutOfRange_IsRefusedNamingTheSetting(int folds)
    {
        var options = new TrainingOptions { CrossValidationFolds = folds };

        var e = Assert.Throws<InvalidOperationException>(options.Validate);

        Assert.Contains("Pipeline:Training:CrossValidationFolds", e.Message);
        Assert.Contains("between 2 and 20", e.Message);
    }

    [Fact]
    public void Validate_NegativeRowLimit_IsRefusedNamingTheSetting()
    {
        var options = new TrainingOptions { CrossValidationMaxRows = -1 };

        var e = Assert.Throws<InvalidOperationException>(options.Validate);

        Assert.Contains("Pipeline:Training:CrossValidationMaxRows", e.Message);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(3.5)]
    [InlineData(double.NaN)]
    public void Validate_SimplerWithinOutOfRange_IsRefusedNamingTheSetting(double within)
    {
        var options = new TrainingOptions { SimplerWithin = within };

        var e = Assert.Throws<InvalidOperationException>(options.Validate);

        Assert.Contains("Pipeline:Training:SimplerWithin", e.Message);
        Assert.Contains("between 0", e.Message);
    }

    [Fact]
    public void Defaults_AreFiveFoldsUpToTenThousandRows_AndValid()
    {
        var options = new TrainingOptions();

        options.Validate();

        Assert.Equal((5, 10_000L, 1.0), (options.CrossValidationFolds, options.CrossValidationMaxRows, options.SimplerWithin));
    }

    [Theory]
    [InlineData(250, 5, 5_000, 5)]
    [InlineData(5_000, 5, 5_000, 5)]
    [InlineData(5_001, 5, 5_000, 0)]
    [InlineData(85_000, 5, 5_000, 0)]
    [InlineData(250, 5, 0, 0)]
    [InlineData(250, 10, 5_000, 10)]
    public void FoldsFor_CrossValidatesUpToTheRowLimit_ElseUsesValidation(long rows, int folds, long maxRows, int expected)
    {
        Assert.Equal(expected, TrainingOptions.FoldsFor(rows, folds, maxRows));
    }

    [Theory]
    [InlineData(250)]
    [InlineData(5_000)]
    public void FoldsFor_TimeOrderedSplit_UsesValidationAtAnySize(long rows)
    {
        Assert.Equal(0, TrainingOptions.FoldsFor(rows, 5, 5_000, timeOrdered: true));
    }

    [Fact]
    public void OfFolds_MeanAndSpreadOverTheFoldsThatReportAMetric()
    {
        FoldScore Fold(long rows, params (string Name, double Value)[] metrics) => new(rows, metrics.ToDictionary(m => m.Name, m => m.Value));

        var (mean, measure) = SelectionMeasure.OfFolds([Fold(40, ("auc", 0.6), ("accuracy", 0.5)), Fold(41, ("auc", 0.8), ("accuracy", 0.7)), Fold(39, ("accuracy", 0.9))]);

        Assert.Equal(0.7, mean["auc"], 12);
        Assert.Equal(0.7, mean["accuracy"], 12);
        Assert.Equal(0.1, measure.StandardDeviation!["auc"], 12);
        Assert.Equal(("cv3", 120L, 3), (measure.Set, measure.Rows, measure.Folds!.Count));
    }
}
