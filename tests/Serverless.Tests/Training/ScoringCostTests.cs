using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>
/// The scoring cost read from fitted ML.NET models (tree splits on the average path, summed over trees and classes), on
/// real models trained on iris: ensembles of two-leaf trees cost exactly one split a tree.
/// </summary>
public sealed class ScoringCostTests
{
    private sealed class Flower
    {
        [LoadColumn(0, 3), VectorType(4)] public float[] Features { get; set; } = [];
        [LoadColumn(4)] public string Species { get; set; } = "";
    }

    private static (MLContext Ml, IDataView Data) Iris()
    {
        var ml = FeaturePipeline.Context(7);
        var data = ml.Data.LoadFromTextFile<Flower>(RepositoryPaths.Dataset("iris", "iris.data"), separatorChar: ',');
        return (ml, ml.Data.Cache(data));
    }

    private static LightGbmRegressionTrainer.Options Stumps(int rounds) =>
        new() { NumberOfLeaves = 2, NumberOfIterations = rounds, MinimumExampleCountPerLeaf = 5, LabelColumnName = "Label" };

    [Fact]
    public void Regression_LightGbmStumps_CostOneSplitATree()
    {
        var (ml, data) = Iris();
        var pipeline = ml.Transforms.CustomMapping<Flower, LabelRow>((f, l) => l.Label = f.Features[0], "petal")
            .Append(ml.Regression.Trainers.LightGbm(Stumps(7)));

        Assert.Equal(7.0, ScoringCost.Of(pipeline.Fit(data)));
    }

    [Fact]
    public void Binary_CalibratedLightGbmStumps_CostOneSplitATree()
    {
        var (ml, data) = Iris();
        var pipeline = ml.Transforms.CustomMapping<Flower, BoolLabel>((f, l) => l.Label = f.Species == "Iris-setosa", "setosa")
            .Append(ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options { NumberOfLeaves = 2, NumberOfIterations = 5, MinimumExampleCountPerLeaf = 5 }));

        Assert.Equal(5.0, ScoringCost.Of(pipeline.Fit(data)));
    }

    [Fact]
    public void Multiclass_LightGbmStumps_CostOneSplitATreeOfEveryClass()
    {
        var (ml, data) = Iris();
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Flower.Species))
            .Append(ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options { NumberOfLeaves = 2, NumberOfIterations = 4, MinimumExampleCountPerLeaf = 5 }));

        Assert.Equal(3 * 4.0, ScoringCost.Of(pipeline.Fit(data)));
    }

    /// <summary>The trainer catalog's multiclass trees: one-versus-all over FastTree and FastForest, each class's model calibrated.</summary>
    [Fact]
    public void Multiclass_OneVersusAllOfTreeStumps_CostOneSplitATreeOfEveryClass()
    {
        var (ml, data) = Iris();
        var label = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Flower.Species));
        var trees = ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(numberOfLeaves: 2, numberOfTrees: 3, minimumExampleCountPerLeaf: 5));
        var forest = ml.MulticlassClassification.Trainers.OneVersusAll(
            ml.BinaryClassification.Trainers.FastForest(numberOfLeaves: 2, numberOfTrees: 3, minimumExampleCountPerLeaf: 5));

        Assert.Equal(3 * 3.0, ScoringCost.Of(label.Append(trees).Fit(data)));
        Assert.Equal(3 * 3.0, ScoringCost.Of(label.Append(forest).Fit(data)));
    }

    [Fact]
    public void Linear_CostsOneSplitAClass()
    {
        var (ml, data) = Iris();
        var label = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Flower.Species));

        Assert.Equal(3.0, ScoringCost.Of(label.Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(data)));
        var regression = ml.Transforms.CustomMapping<Flower, LabelRow>((f, l) => l.Label = f.Features[0], "petal").Append(ml.Regression.Trainers.Sdca());
        Assert.Equal(1.0, ScoringCost.Of(regression.Fit(data)));
    }

    [Fact]
    public void DeeperTreesAndMoreRounds_CostMore_AndAForestCountsEveryTree()
    {
        var (ml, data) = Iris();
        var target = ml.Transforms.CustomMapping<Flower, LabelRow>((f, l) => l.Label = f.Features[0], "petal");
        double Cost(IEstimator<ITransformer> trainer) => ScoringCost.Of(target.Append(trainer).Fit(data))!.Value;

        var small = Cost(ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options { NumberOfLeaves = 4, NumberOfTrees = 10, MinimumExampleCountPerLeaf = 2 }));
        var large = Cost(ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options { NumberOfLeaves = 16, NumberOfTrees = 40, MinimumExampleCountPerLeaf = 2 }));
        var forest = Cost(ml.Regression.Trainers.FastForest(new FastForestRegressionTrainer.Options { NumberOfLeaves = 4, NumberOfTrees = 10, MinimumExampleCountPerLeaf = 2 }));

        // A tree of at most four leaves has them 1 to 3 splits deep; the larger trees have more leaves, deeper, and four times as many trees.
        Assert.InRange(small, 10 * 1.0, 10 * 3.0);
        Assert.InRange(forest, 10 * 1.0, 10 * 3.0);
        Assert.True(large > 4 * small, $"{large} against {small}");
    }

    private sealed class LabelRow
    {
        public float Label { get; set; }
    }

    private sealed class BoolLabel
    {
        public bool Label { get; set; }
    }
}
