using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;

namespace Serverless.Core.Training;

/// <summary>The predictor of a model's chain of transformers, and the transformers before it (the featurization).</summary>
internal static class ModelChain
{
    /// <summary>
    /// The last predictor of the chain and the transformers before it; anything after it (a calibration of its score,
    /// mapping keys back to values) is left out. Null when the model has no predictor.
    /// </summary>
    public static (ISingleFeaturePredictionTransformer<object> Predictor, ITransformer Prefix)? Split(ITransformer model)
    {
        // A fitted chain is a TransformerChain of its last transformer's type, a loaded one of ITransformer: both enumerate.
        var steps = model is IEnumerable<ITransformer> chain ? chain.ToList() : [model];
        // A calibrator that follows a predictor is a single-feature transformer too (its feature is the score): not the predictor.
        var index = steps.FindLastIndex(t => t is ISingleFeaturePredictionTransformer<object> { Model: not ICalibrator });
        return index < 0 ? null : ((ISingleFeaturePredictionTransformer<object>)steps[index], new TransformerChain<ITransformer>([.. steps.Take(index)]));
    }
}
