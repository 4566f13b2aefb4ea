using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;

namespace Serverless.Core.Training;

/// <summary>
/// What scoring one row costs a fitted model, in tree splits: for each tree, the mean depth of its leaves (the splits a row
/// passes on its way to a leaf, every leaf counted once), summed over the trees of the ensemble, and over the classes'
/// ensembles of a one-versus-all model. A linear model costs one split per class: a dot product over the features costs
/// about what a few splits do, far less than any of the ensembles. Deterministic: read from the model's trees, not
/// timed, so a run with the same seed chooses the same winner.
/// </summary>
public static class ScoringCost
{
    /// <summary>
    /// The cost of the model's predictor, or of a blend's predictors summed (every member scores each row); null when the
    /// model has none, or one of a kind this does not know.
    /// </summary>
    public static double? Of(ITransformer model)
    {
        double? cost = null;
        foreach (var predictor in ModelChain.Predictors(model))
        {
            if (OfParameters(predictor.Model) is not { } one) return null;
            cost = (cost ?? 0) + one;
        }
        return cost;
    }

    internal static double? OfParameters(object parameters) => parameters switch
    {
        TreeEnsembleModelParametersBasedOnRegressionTree trees => OfTrees(trees.TrainedTreeEnsemble.Trees),
        TreeEnsembleModelParametersBasedOnQuantileRegressionTree forest => OfTrees(forest.TrainedTreeEnsemble.Trees),
        OneVersusAllModelParameters classes => OneVersusAllParts.SubModels(classes)?.Aggregate((double?)0, (sum, sub) => sum + OfParameters(sub)),
        CalibratedModelParametersBase calibrated => OfParameters(calibrated.SubModel),
        LinearModelParameters => 1,
        MaximumEntropyModelParameters classes => ClassCount(classes),
        _ => null,
    };

    /// <summary>The mean leaf depth of each tree, summed.</summary>
    public static double OfTrees(IEnumerable<RegressionTreeBase> trees) => trees.Sum(MeanLeafDepth);

    private static double MeanLeafDepth(RegressionTreeBase tree)
    {
        if (tree.NumberOfLeaves <= 1) return 0;
        // Children are node indexes, or the complement (~leaf) of a leaf index; node 0 is the root.
        long depths = 0;
        var stack = new Stack<(int Node, int Depth)>();
        stack.Push((0, 0));
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            foreach (var child in (ReadOnlySpan<int>)[tree.LeftChild[node], tree.RightChild[node]])
            {
                if (child < 0) depths += depth + 1;
                else stack.Push((child, depth + 1));
            }
        }
        return (double)depths / tree.NumberOfLeaves;
    }

    private static double ClassCount(MaximumEntropyModelParameters model)
    {
        VBuffer<float>[] weights = [];
        model.GetWeights(ref weights, out var classes);
        return classes;
    }
}
