using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Serving;

/// <summary>
/// A reusable scorer of one loaded version: the model's row-to-row mapper over a <see cref="ModelInputRow"/>, with the
/// getters of the outputs its task answers. Creating one costs a mapper; scoring a row then allocates only the answer.
/// A model by trees is scored by its <see cref="CompiledTrees"/> over the featurization's mapper, and by the model's
/// own mapper where those leave a row to ML.NET. Not thread-safe: <see cref="LoadedModel"/>
/// pools them, one per concurrent request.
/// </summary>
internal sealed class RowScorer
{
    private readonly ModelOutputs _outputs;
    private readonly ModelInputRow _input;
    private readonly ValueGetter<float>? _score;
    private readonly ValueGetter<bool>? _predictedLabel;
    private readonly ValueGetter<float>? _probability;
    private readonly ValueGetter<VBuffer<float>>? _scores;
    private readonly ValueGetter<ReadOnlyMemory<char>>? _predictedClass;
    private VBuffer<float> _scoreBuffer;
    private readonly CompiledTrees? _trees;
    private readonly ValueGetter<VBuffer<float>>? _features;
    private VBuffer<float> _featureBuffer;
    private float[] _dense = [];
    private readonly float[] _classScores = [];

    public RowScorer(ITransformer model, DataViewSchema inputSchema, ModelOutputs outputs, IReadOnlyList<ColumnKind> kinds, CompiledTrees? trees = null)
    {
        _outputs = outputs;
        OneRow = new ModelInput(kinds, 1);
        _input = new ModelInputRow(inputSchema);
        var mapper = model.GetRowToRowMapper(inputSchema);
        var wanted = outputs.Columns.ToHashSet(StringComparer.Ordinal);
        var output = mapper.GetRow(_input, mapper.OutputSchema.Where(c => wanted.Contains(c.Name) && !c.IsHidden));
        var schema = output.Schema;
        switch (outputs.Task)
        {
            case TaskKind.Regression:
                _score = output.GetGetter<float>(schema[ModelOutputs.ScoreColumn]);
                break;
            case TaskKind.Binary:
                _score = output.GetGetter<float>(schema[ModelOutputs.ScoreColumn]);
                _predictedLabel = output.GetGetter<bool>(schema[ModelOutputs.PredictedLabelColumn]);
                if (outputs.HasProbability) _probability = output.GetGetter<float>(schema[ModelOutputs.ProbabilityColumn]);
                // The trees answer a probability exactly when the model does.
                if (trees is not null && trees.Calibrator is not null != outputs.HasProbability) trees = null;
                break;
            default:
                _scores = output.GetGetter<VBuffer<float>>(schema[ModelOutputs.ScoreColumn]);
                _predictedClass = output.GetGetter<ReadOnlyMemory<char>>(schema[FeaturePipeline.PredictedClassColumn]);
                // The trees' class of the highest score is the model's answer when the classes are its score's slots.
                if (trees is not null && (!outputs.ClassesAreScoreSlots || trees.ClassCount != outputs.Classes.Count)) trees = null;
                if (trees is not null) _classScores = new float[trees.ClassCount];
                break;
        }
        if (trees is not null)
        {
            var featurization = trees.Featurization.GetRowToRowMapper(inputSchema);
            var features = featurization.GetRow(_input, featurization.OutputSchema.Where(c => c.Name == trees.FeatureColumn && !c.IsHidden));
            _features = features.GetGetter<VBuffer<float>>(features.Schema[trees.FeatureColumn]);
            _trees = trees;
        }
    }

    /// <summary>This scorer's own input of one row, for a single-row request to be read into and scored (by the request holding the scorer).</summary>
    public ModelInput OneRow { get; }

    public RowPrediction Score(ModelInput input, int row)
    {
        _input.MoveTo(input, row);
        var imputed = input.Imputed[row];
        var unseen = input.Unseen[row];
        switch (_outputs.Task)
        {
            case TaskKind.Regression:
            {
                if (!TryTrees(out var score)) _score!(ref score);
                return new RowPrediction { Score = score, Imputed = imputed, UnseenCategories = unseen };
            }
            case TaskKind.Binary:
            {
                float probability = 0;
                var label = false;
                if (TryTrees(out var score))
                {
                    // As ML.NET's binary scorer and calibrator answer the score.
                    label = score > _trees!.Threshold;
                    if (_probability is not null) probability = _trees.Calibrator!.PredictProbability(score);
                }
                else
                {
                    _score!(ref score);
                    _predictedLabel!(ref label);
                    if (_probability is not null) _probability(ref probability);
                }
                return new RowPrediction
                {
                    Label = _outputs.Classes[label ? 1 : 0],
                    Probability = _probability is null ? null : probability,
                    Score = score,
                    Imputed = imputed,
                    UnseenCategories = unseen,
                };
            }
            default:
            {
                var probabilities = new Dictionary<string, float>(_outputs.Classes.Count, StringComparer.Ordinal);
                if (Features(out var features) && _trees!.TryScoreClasses(features, _classScores, out var best))
                {
                    for (var k = 0; k < _classScores.Length; k++) probabilities[_outputs.Classes[k]] = _classScores[k];
                    return new RowPrediction { Label = _outputs.Classes[best], Probabilities = probabilities, Imputed = imputed, UnseenCategories = unseen };
                }
                ReadOnlyMemory<char> predicted = default;
                _scores!(ref _scoreBuffer);
                _predictedClass!(ref predicted);
                var values = _scoreBuffer.DenseValues();
                var slot = 0;
                foreach (var value in values)
                {
                    if (slot >= _outputs.Classes.Count) break;
                    probabilities[_outputs.Classes[slot++]] = value;
                }
                return new RowPrediction { Label = _outputs.ClassName(predicted.Span), Probabilities = probabilities, Imputed = imputed, UnseenCategories = unseen };
            }
        }
    }

    /// <summary>The row's score from the compiled trees; false when there are none or they leave the row to ML.NET.</summary>
    private bool TryTrees(out float score)
    {
        score = 0;
        return Features(out var features) && _trees!.TryScore(features, out score);
    }

    /// <summary>The row's feature vector, dense, for the compiled trees; false when there are none.</summary>
    private bool Features(out ReadOnlySpan<float> features)
    {
        features = default;
        if (_trees is null) return false;
        _features!(ref _featureBuffer);
        if (_featureBuffer.IsDense)
        {
            features = _featureBuffer.GetValues();
            return true;
        }
        // A sparse vector's absent slots are 0, as ML.NET's trees read them.
        if (_dense.Length != _featureBuffer.Length) _dense = new float[_featureBuffer.Length];
        Array.Clear(_dense);
        var indices = _featureBuffer.GetIndices();
        var values = _featureBuffer.GetValues();
        for (var i = 0; i < indices.Length; i++) _dense[indices[i]] = values[i];
        features = _dense;
        return true;
    }
}
