using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Serving;

/// <summary>
/// A regression's, a binary classifier's or a multiclass classifier's tree ensembles (LightGbm, FastTree or FastForest;
/// a multiclass model has one per class) laid out in flat arrays, every tree's nodes one after another, and evaluated
/// on a row's feature vector in one loop. ML.NET walks the same
/// trees through a virtual call per tree and a check for categorical splits and one for missing values at every node:
/// on the default taxi model (100 trees of 31 leaves) a row scored with these takes 0.45 of the time it takes through
/// the model's own mapper (<c>ScoringBenchmarks</c>; docs/benchmarks.md, "Compiled trees"). The answer is the float
/// ML.NET gives, bit for bit: the leaves' values summed as doubles in tree order, then cast (and for a forest divided
/// by the number of trees, as ML.NET's forest does). A classifier's probability is its own calibrator's answer to that
/// score, and its label the score above its threshold, as ML.NET's scorer decides it. A multiclass model's score vector
/// is its classes' scores put together as its one-versus-all model does (their softmax, or their calibrated
/// probabilities divided by their sum), and its label the first class of the highest score. ML.NET scores the classes
/// of one row in parallel on the thread pool; here they are summed one after another on the request's thread. No served package evaluates
/// ML.NET's trees faster, so this is written here; it reads the trees through ML.NET's public model API and trains
/// nothing.
/// </summary>
/// <remarks>
/// Only what is known to give ML.NET's answer is compiled: numeric and categorical splits, no bias, weights of 1, no
/// tree of one leaf.
/// A row with a missing (NaN) feature is left to ML.NET (<see cref="TryScore"/> answers false): ML.NET replaces it at
/// each node by a value the trained trees hold and its public API does not give. Anything else (a blend, a linear
/// model) is not compiled, and the model's own mapper scores it.
/// </remarks>
internal sealed class CompiledTrees
{
    /// <summary>The model's ensemble, or a multiclass model's ensembles in the order of its score vector.</summary>
    private readonly FlatEnsemble[] _ensembles;

    /// <summary>Each ensemble's calibrator, where its probability is part of the answer.</summary>
    private readonly ICalibrator?[] _calibrators;

    private CompiledTrees(FlatEnsemble[] ensembles, ICalibrator?[] calibrators)
    {
        (_ensembles, _calibrators) = (ensembles, calibrators);
        FeatureCount = ensembles.Max(e => e.FeatureCount);
    }

    /// <summary>The name of the feature vector column the trees read.</summary>
    public required string FeatureColumn { get; init; }

    /// <summary>The transformers before the trees (the featurization), which make <see cref="FeatureColumn"/>.</summary>
    public required ITransformer Featurization { get; init; }

    /// <summary>The least length of a feature vector the trees can read (one past the highest feature they split on).</summary>
    public int FeatureCount { get; }

    /// <summary>A binary classifier's calibrator (its probability of the positive class), when it has one.</summary>
    public ICalibrator? Calibrator => _ensembles.Length == 1 ? _calibrators[0] : null;

    /// <summary>A binary classifier's threshold: the label is positive when the score is above it.</summary>
    public float Threshold { get; private init; }

    /// <summary>A multiclass model's number of classes (the length of its score vector); 0 for any other.</summary>
    public int ClassCount { get; private init; }

    /// <summary>How a multiclass model's classes' scores become its score vector.</summary>
    public ClassFormula Formula { get; private init; }

    /// <summary>
    /// The compiled trees of a model whose predictor is LightGbm, FastTree or FastForest: a regression, a binary
    /// classifier (its calibration included, in the predictor or right after it) or a multiclass one-versus-all model of
    /// them; null for any other model, which is then scored by its own mapper.
    /// </summary>
    public static CompiledTrees? For(ITransformer model, TaskKind task)
    {
        if (ModelChain.Split(model) is not ({ } predictor, { } featurization, var after)) return null;
        return task switch
        {
            TaskKind.Regression or TaskKind.Binary => Single(predictor, featurization, after, task),
            TaskKind.Multiclass => Classes(predictor, featurization, after),
            _ => null,
        };
    }

    private static CompiledTrees? Single(ISingleFeaturePredictionTransformer<object> predictor, ITransformer featurization, IReadOnlyList<ITransformer> after, TaskKind task)
    {
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
        if (after.Count > 0 || FlatEnsemble.Of(trees, task) is not { } ensemble) return null;
        return new CompiledTrees([ensemble], [calibrator])
        {
            FeatureColumn = predictor.FeatureColumnName, Featurization = featurization, Threshold = threshold,
        };
    }

    /// <summary>
    /// A multiclass model of one binary tree ensemble per class. Its softmax reads the classes' raw scores (a calibrator
    /// around them is not applied, as ML.NET's is not); its probability normalization reads each class's calibrated
    /// probability. Only the mapping of the predicted key back to its class may follow.
    /// </summary>
    private static CompiledTrees? Classes(ISingleFeaturePredictionTransformer<object> predictor, ITransformer featurization, IReadOnlyList<ITransformer> after)
    {
        if (predictor.Model is not OneVersusAllModelParameters model || after.Any(a => a is not KeyToValueMappingTransformer)
            || OneVersusAllParts.Formula(model) is not { } formula || OneVersusAllParts.SubModels(model) is not { Count: > 1 } classes)
        {
            return null;
        }
        var ensembles = new FlatEnsemble[classes.Count];
        var calibrators = new ICalibrator?[classes.Count];
        for (var c = 0; c < classes.Count; c++)
        {
            var trees = classes[c];
            if (trees is CalibratedModelParametersBase calibrated) (trees, calibrators[c]) = (calibrated.SubModel, calibrated.Calibrator);
            if (formula != ClassFormula.ProbabilityNormalization) calibrators[c] = null;
            else if (calibrators[c] is null) return null;
            if (FlatEnsemble.Of(trees, TaskKind.Binary) is not { } ensemble) return null;
            ensembles[c] = ensemble;
        }
        return new CompiledTrees(ensembles, calibrators)
        {
            FeatureColumn = predictor.FeatureColumnName, Featurization = featurization, ClassCount = classes.Count, Formula = formula,
        };
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
    /// A regression's or binary classifier's score of one dense feature vector, as ML.NET computes it; false (and ML.NET
    /// must score the row) when a feature is missing.
    /// </summary>
    public bool TryScore(ReadOnlySpan<float> features, out float score)
    {
        score = 0;
        if (_ensembles.Length != 1 || !CanRead(features)) return false;
        score = _ensembles[0].Score(features);
        return true;
    }

    /// <summary>
    /// A multiclass model's score vector of one dense feature vector (<paramref name="scores"/>, <see cref="ClassCount"/>
    /// long) and the index of its predicted class, as ML.NET computes them; false (and ML.NET must score the row) when a
    /// feature is missing or no score is a number.
    /// </summary>
    public bool TryScoreClasses(ReadOnlySpan<float> features, Span<float> scores, out int predicted)
    {
        predicted = -1;
        if (ClassCount == 0 || scores.Length != ClassCount || !CanRead(features)) return false;
        for (var c = 0; c < scores.Length; c++)
        {
            var raw = _ensembles[c].Score(features);
            scores[c] = Formula == ClassFormula.ProbabilityNormalization ? _calibrators[c]!.PredictProbability(raw) : raw;
        }
        if (Formula == ClassFormula.Softmax) Softmax(scores);
        else if (Formula == ClassFormula.ProbabilityNormalization) NormalizeSumToOne(scores);
        predicted = ArgMax(scores);
        return predicted >= 0;
    }

    /// <summary>As ML.NET's one-versus-all softmax: each exponent in double, divided by their sum (no shift by the maximum).</summary>
    private static void Softmax(Span<float> scores)
    {
        Span<double> exp = stackalloc double[scores.Length];
        var sum = 0.0;
        for (var c = 0; c < scores.Length; c++) sum += exp[c] = Math.Exp(scores[c]);
        for (var c = 0; c < scores.Length; c++) scores[c] = (float)(exp[c] / sum);
    }

    /// <summary>As ML.NET's one-versus-all probability normalization: negatives set to 0, NaN left out of the sum.</summary>
    private static void NormalizeSumToOne(Span<float> scores)
    {
        var sum = 0.0;
        for (var c = 0; c < scores.Length; c++)
        {
            if (float.IsNaN(scores[c])) continue;
            if (scores[c] >= 0) sum += scores[c];
            else scores[c] = 0;
        }
        if (sum <= 0) return;
        for (var c = 0; c < scores.Length; c++) scores[c] = (float)(scores[c] / sum);
    }

    /// <summary>As ML.NET's multiclass scorer: the first index of the highest score, NaN left out; -1 when every score is NaN.</summary>
    private static int ArgMax(ReadOnlySpan<float> scores)
    {
        var (index, max) = (-1, float.NegativeInfinity);
        for (var c = scores.Length - 1; c >= 0; c--)
        {
            if (max <= scores[c]) (index, max) = (c, scores[c]);
        }
        return index;
    }

    private bool CanRead(ReadOnlySpan<float> features) => features.Length >= FeatureCount && !HasNaN(features);

    private static bool HasNaN(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (float.IsNaN(value)) return true;
        }
        return false;
    }

    /// <summary>One tree ensemble in flat arrays: each node's feature, threshold and children, and the leaves' values.</summary>
    private sealed class FlatEnsemble
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

        private FlatEnsemble(IReadOnlyList<RegressionTreeBase> trees, int divisor)
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

        /// <summary>One past the highest feature the trees split on.</summary>
        public int FeatureCount { get; }

        /// <summary>
        /// The ensemble of a regression or binary predictor by LightGbm, FastTree or FastForest, or null for any other
        /// predictor, or one whose answer ML.NET computes in a way of its own (a bias, weights other than 1, a tree of one leaf).
        /// </summary>
        public static FlatEnsemble? Of(object trees, TaskKind task)
        {
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
            if (ensemble.Count == 0 || bias != 0 || weights.Any(w => w != 1) || ensemble.Any(t => t.NumberOfLeaves < 2)) return null;
            return new FlatEnsemble(ensemble, divisor);

            static (IReadOnlyList<RegressionTreeBase>, double, IReadOnlyList<double>, int) Parts<T>(TreeEnsemble<T> ensemble, bool forest) where T : RegressionTreeBase =>
                ([.. ensemble.Trees], ensemble.Bias, ensemble.TreeWeights, forest ? ensemble.Trees.Count : 1);
        }

        /// <summary>The leaves the feature vector reaches, summed as doubles in tree order, then cast (a forest's divided by its trees).</summary>
        public float Score(ReadOnlySpan<float> features)
        {
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
            return _divisor == 1 ? (float)sum : (float)sum / _divisor;
        }

        private static bool AnyAboveZero(ReadOnlySpan<float> features, int[] indices)
        {
            foreach (var index in indices)
            {
                if (features[index] > 0f) return true;
            }
            return false;
        }
    }
}
