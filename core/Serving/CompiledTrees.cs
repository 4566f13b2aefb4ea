using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Serving;

/// <summary>
/// A regression's or a binary classifier's tree ensemble (LightGbm, FastTree or FastForest) laid out in flat arrays,
/// every tree's nodes one after another, and evaluated on a row's feature vector in one loop. ML.NET walks the same
/// trees through a virtual call per tree and a check for categorical splits and one for missing values at every node:
/// on the default taxi model (100 trees of 31 leaves) a row scored with these takes 0.45 of the time it takes through
/// the model's own mapper (<c>ScoringBenchmarks</c>; docs/benchmarks.md, "Compiled trees"). The answer is the float
/// ML.NET gives, bit for bit: the leaves' values summed as doubles in tree order, then cast (and for a forest divided
/// by the number of trees, as ML.NET's forest does). A classifier's probability is its own calibrator's answer to that
/// score, and its label the score above its threshold, as ML.NET's scorer decides it. No served package evaluates
/// ML.NET's trees faster, so this is written here; it reads the trees through ML.NET's public model API and trains
/// nothing.
/// </summary>
/// <remarks>
/// Only what is known to give ML.NET's answer is compiled: numeric and categorical splits, no bias, weights of 1, no
/// tree of one leaf.
/// A row with a missing (NaN) feature is left to ML.NET (<see cref="TryScore"/> answers false): ML.NET replaces it at
/// each node by a value the trained trees hold and its public API does not give. Anything else (a blend, a linear
/// model, a multiclass model) is not compiled, and the model's own mapper scores it.
/// </remarks>
internal sealed class CompiledTrees
{
    private readonly int[] _roots;
    private readonly int[] _feature;
    private readonly float[] _threshold;
    private readonly int[] _left;
    private readonly int[] _right;
    private readonly double[] _leaves;
    private readonly int _divisor;

    /// <summary>The features of each categorical split (a node whose <see cref="_feature"/> is ~ its index here).</summary>
    private readonly int[][] _categories;

    private CompiledTrees(IReadOnlyList<RegressionTreeBase> trees, int divisor)
    {
        var nodes = trees.Sum(t => t.NumberOfNodes);
        (_feature, _threshold, _left, _right) = (new int[nodes], new float[nodes], new int[nodes], new int[nodes]);
        _leaves = new double[trees.Sum(t => t.NumberOfLeaves)];
        _roots = new int[trees.Count];
        _divisor = divisor;
        var categories = new List<int[]>();
        int nodeBase = 0, leafBase = 0;
        for (var t = 0; t < trees.Count; t++)
        {
            var tree = trees[t];
            // A child below 0 is the leaf ~child of its tree; here ~(that leaf's index in the whole ensemble).
            int Child(int child) => child >= 0 ? nodeBase + child : ~(leafBase + ~child);
            _roots[t] = nodeBase;
            for (var n = 0; n < tree.NumberOfNodes; n++)
            {
                // A categorical split (LightGbm's, on more than 50,000 rows) goes right when any of its features is above 0.
                if (tree.CategoricalSplitFlags[n])
                {
                    _feature[nodeBase + n] = ~categories.Count;
                    categories.Add([.. tree.GetCategoricalSplitFeaturesAt(n)]);
                }
                else
                {
                    _feature[nodeBase + n] = tree.NumericalSplitFeatureIndexes[n];
                }
                _threshold[nodeBase + n] = tree.NumericalSplitThresholds[n];
                _left[nodeBase + n] = Child(tree.LeftChild[n]);
                _right[nodeBase + n] = Child(tree.RightChild[n]);
            }
            for (var l = 0; l < tree.NumberOfLeaves; l++) _leaves[leafBase + l] = tree.LeafValues[l];
            nodeBase += tree.NumberOfNodes;
            leafBase += tree.NumberOfLeaves;
        }
        _categories = [.. categories];
        FeatureCount = Math.Max(_feature.Max(), categories.SelectMany(c => c).DefaultIfEmpty(-1).Max()) + 1;
    }

    /// <summary>The name of the feature vector column the trees read.</summary>
    public required string FeatureColumn { get; init; }

    /// <summary>The transformers before the trees (the featurization), which make <see cref="FeatureColumn"/>.</summary>
    public required ITransformer Featurization { get; init; }

    /// <summary>The least length of a feature vector the trees can read (one past the highest feature they split on).</summary>
    public int FeatureCount { get; }

    /// <summary>A binary classifier's calibrator (its probability of the positive class), when it has one.</summary>
    public ICalibrator? Calibrator { get; private init; }

    /// <summary>A binary classifier's threshold: the label is positive when the score is above it.</summary>
    public float Threshold { get; private init; }

    /// <summary>
    /// The compiled trees of a regression or binary model whose predictor is LightGbm, FastTree or FastForest (a
    /// classifier's calibration included, in the predictor or right after it), or null for any other model, which is
    /// then scored by its own mapper.
    /// </summary>
    public static CompiledTrees? For(ITransformer model, TaskKind task)
    {
        if (task is not (TaskKind.Regression or TaskKind.Binary) || ModelChain.Split(model) is not ({ } predictor, { } featurization, var after)) return null;
        var trees = (object)predictor.Model;
        ICalibrator? calibrator = null;
        var threshold = 0f;
        if (task == TaskKind.Binary)
        {
            if (!TryThreshold(predictor, out threshold)) return null;
            if (trees is CalibratedModelParametersBase calibrated) (trees, calibrator) = (calibrated.SubModel, calibrated.Calibrator);
            // A calibration appended after the trees (FastForest's) reads their score: the one step allowed after them.
            if (calibrator is null && after is [ISingleFeaturePredictionTransformer<object> { Model: ICalibrator appended, FeatureColumnName: ModelOutputs.ScoreColumn }])
            {
                (calibrator, after) = (appended, []);
            }
        }
        // Nothing else may follow the trees: their sum (and its calibration) must be the answer.
        if (after.Count > 0) return null;
        var (ensemble, bias, weights, divisor) = (task, trees) switch
        {
            (TaskKind.Regression, LightGbmRegressionModelParameters m) => Parts(m.TrainedTreeEnsemble, forest: false),
            (TaskKind.Regression, FastTreeRegressionModelParameters m) => Parts(m.TrainedTreeEnsemble, forest: false),
            (TaskKind.Regression, FastForestRegressionModelParameters m) => Parts(m.TrainedTreeEnsemble, forest: true),
            (TaskKind.Binary, LightGbmBinaryModelParameters m) => Parts(m.TrainedTreeEnsemble, forest: false),
            (TaskKind.Binary, FastTreeBinaryModelParameters m) => Parts(m.TrainedTreeEnsemble, forest: false),
            // ML.NET's binary forest answers the sum of its trees, not their mean (its regression forest divides).
            (TaskKind.Binary, FastForestBinaryModelParameters m) => Parts(m.TrainedTreeEnsemble, forest: false),
            _ => ([], 0, [], 0),
        };
        // ML.NET answers a tree of one leaf (no split) in a way of its own: such a model is left to it, as any other exception.
        if (ensemble.Count == 0 || bias != 0 || weights.Any(w => w != 1) || ensemble.Any(t => t.NumberOfLeaves < 2))
        {
            return null;
        }
        return new CompiledTrees(ensemble, divisor)
        {
            FeatureColumn = predictor.FeatureColumnName, Featurization = featurization, Calibrator = calibrator, Threshold = threshold,
        };

        static (IReadOnlyList<RegressionTreeBase>, double, IReadOnlyList<double>, int) Parts<T>(TreeEnsemble<T> ensemble, bool forest) where T : RegressionTreeBase =>
            ([.. ensemble.Trees], ensemble.Bias, ensemble.TreeWeights, forest ? ensemble.Trees.Count : 1);
    }

    /// <summary>
    /// A binary predictor's threshold, when it applies to the score. ML.NET keeps both in internal fields of its
    /// <c>BinaryPredictionTransformer</c> (<c>Threshold</c>, <c>ThresholdColumn</c>); they are read once, here, and a
    /// predictor where they are not found, or whose threshold applies to another column, is not compiled.
    /// </summary>
    private static bool TryThreshold(object predictor, out float threshold)
    {
        const BindingFlags Fields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var type = predictor.GetType();
        threshold = 0;
        if (type.GetField("Threshold", Fields)?.GetValue(predictor) is not float value
            || type.GetField("ThresholdColumn", Fields)?.GetValue(predictor) is not ModelOutputs.ScoreColumn)
        {
            return false;
        }
        threshold = value;
        return true;
    }

    /// <summary>
    /// The model's score of one dense feature vector, as ML.NET computes it; false (and ML.NET must score the row) when a
    /// feature is missing.
    /// </summary>
    public bool TryScore(ReadOnlySpan<float> features, out float score)
    {
        score = 0;
        if (features.Length < FeatureCount || HasNaN(features)) return false;
        var (feature, threshold, left, right, leaves) = (_feature, _threshold, _left, _right, _leaves);
        var sum = 0.0;
        foreach (var root in _roots)
        {
            var node = root;
            while (node >= 0)
            {
                var f = feature[node];
                node = f >= 0
                    ? features[f] <= threshold[node] ? left[node] : right[node]
                    : AnyAboveZero(features, _categories[~f]) ? right[node] : left[node];
            }
            sum += leaves[~node];
        }
        score = _divisor == 1 ? (float)sum : (float)sum / _divisor;
        return true;
    }

    private static bool AnyAboveZero(ReadOnlySpan<float> features, int[] indices)
    {
        foreach (var index in indices)
        {
            if (features[index] > 0f) return true;
        }
        return false;
    }

    private static bool HasNaN(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (float.IsNaN(value)) return true;
        }
        return false;
    }
}
