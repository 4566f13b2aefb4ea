using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Serving;

/// <summary>
/// A reusable scorer of one loaded version: the model's row-to-row mapper over a <see cref="ModelInputRow"/>, with the
/// getters of the outputs its task answers. Creating one costs a mapper; scoring a row then allocates only the answer.
/// Not thread-safe: <see cref="LoadedModel"/> pools them, one per concurrent request.
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

    public RowScorer(ITransformer model, DataViewSchema inputSchema, ModelOutputs outputs)
    {
        _outputs = outputs;
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
                break;
            default:
                _scores = output.GetGetter<VBuffer<float>>(schema[ModelOutputs.ScoreColumn]);
                _predictedClass = output.GetGetter<ReadOnlyMemory<char>>(schema[FeaturePipeline.PredictedClassColumn]);
                break;
        }
    }

    public RowPrediction Score(ModelInput input, int row)
    {
        _input.MoveTo(input, row);
        var imputed = input.Imputed[row];
        switch (_outputs.Task)
        {
            case TaskKind.Regression:
            {
                var score = 0f;
                _score!(ref score);
                return new RowPrediction { Score = score, Imputed = imputed };
            }
            case TaskKind.Binary:
            {
                float score = 0, probability = 0;
                var label = false;
                _score!(ref score);
                _predictedLabel!(ref label);
                if (_probability is not null) _probability(ref probability);
                return new RowPrediction
                {
                    Label = _outputs.Classes[label ? 1 : 0],
                    Probability = _probability is null ? null : probability,
                    Score = score,
                    Imputed = imputed,
                };
            }
            default:
            {
                ReadOnlyMemory<char> predicted = default;
                _scores!(ref _scoreBuffer);
                _predictedClass!(ref predicted);
                var values = _scoreBuffer.DenseValues();
                var probabilities = new Dictionary<string, float>(_outputs.Classes.Count, StringComparer.Ordinal);
                var k = 0;
                foreach (var value in values)
                {
                    if (k >= _outputs.Classes.Count) break;
                    probabilities[_outputs.Classes[k++]] = value;
                }
                return new RowPrediction { Label = _outputs.ClassName(predicted.Span), Probabilities = probabilities, Imputed = imputed };
            }
        }
    }
}
