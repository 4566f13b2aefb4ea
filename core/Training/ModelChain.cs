using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;

namespace Serverless.Core.Training;

/// <summary>The predictor of a model's chain of transformers, and the transformers before it (the featurization).</summary>
internal static class ModelChain
{
    /// <summary>
    /// The last predictor of the chain, the transformers before it, and those after it (a calibration of its score,
    /// mapping keys back to values). Null when the model has no predictor, or several (a blend).
    /// </summary>
    public static (ISingleFeaturePredictionTransformer<object> Predictor, ITransformer Prefix, IReadOnlyList<ITransformer> After)? Split(ITransformer model)
    {
        // A fitted chain is a TransformerChain of its last transformer's type, a loaded one of ITransformer: both enumerate.
        if (IsBlend(model)) return null;
        var steps = model is IEnumerable<ITransformer> chain ? chain.ToList() : [model];
        var index = steps.FindLastIndex(IsPredictor);
        return index < 0
            ? null
            : ((ISingleFeaturePredictionTransformer<object>)steps[index], new TransformerChain<ITransformer>([.. steps.Take(index)]), steps[(index + 1)..]);
    }

    /// <summary>Every predictor of the chain, in order, those of nested chains (a <see cref="Blend"/>'s members) included.</summary>
    public static IEnumerable<ISingleFeaturePredictionTransformer<object>> Predictors(ITransformer model) =>
        model is IEnumerable<ITransformer> chain
            ? chain.SelectMany(Predictors)
            : IsPredictor(model) ? [(ISingleFeaturePredictionTransformer<object>)model] : [];

    /// <summary>Whether a model holds more than one predictor (a blend): no one predictor stands for it.</summary>
    public static bool IsBlend(ITransformer model) => Predictors(model).Skip(1).Any();

    // A calibrator that follows a predictor is a single-feature transformer too (its feature is the score): not the predictor.
    private static bool IsPredictor(ITransformer step) => step is ISingleFeaturePredictionTransformer<object> { Model: not ICalibrator };
}
