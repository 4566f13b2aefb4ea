using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Tests.Serving;

/// <summary>
/// A regression whose features are named Label, Score and Features, scored as predict scores a request (its JSON rows
/// read by <see cref="PredictionInput"/>, scored by a <see cref="RowScorer"/>, by compiled trees where the model has
/// them): the answer is the model's own on the same rows, not an input column of an output's name.
/// </summary>
public sealed class OutputNamedColumnServingTests
{
    private const int Seed = 42;

    private static readonly DatasetSchema Schema = new()
    {
        Columns = [new("Label", ColumnKind.Numeric), new("Score", ColumnKind.Numeric), new("Features", ColumnKind.Numeric), new("y", ColumnKind.Numeric)],
        Label = "y",
        Task = TaskKind.Regression,
        Features = ["Label", "Score", "Features"],
    };

    [Theory]
    [InlineData("FastTree")]
    [InlineData("Blend")]
    public void Score_FeaturesNamedLabelScoreFeatures_AnswersTheModelsScore(string trainer)
    {
        var random = new Random(7);
        var file = Path.Combine(Path.GetTempPath(), $"output-names-serving-{Guid.NewGuid():N}.csv");
        File.WriteAllText(file, "Label,Score,Features,y\n" + string.Join("\n", Enumerable.Range(0, 300).Select(_ =>
        {
            double a = random.NextDouble() * 10, b = random.NextDouble() * 5, c = random.NextDouble() * 3;
            return string.Create(CultureInfo.InvariantCulture, $"{a:F3},{b:F3},{c:F3},{a - 2 * b + 4 * c + random.NextDouble():F3}");
        })) + "\n", Encoding.UTF8);
        try
        {
            var ml = FeaturePipeline.Context(Seed);
            var loader = FeaturePipeline.Loader(ml, Schema, withLabel: false);
            var (model, _) = ModelTrainer.Fit(ml, Schema, null, new CandidateSpec(trainer, new Dictionary<string, double>()), Seed, FeaturePipeline.Loader(ml, Schema).Load(file));
            var expected = model.Transform(loader.Load(file)).GetColumn<float>(ModelOutputs.ScoreColumn).Take(20).ToArray();
            var rows = File.ReadLines(file).Skip(1).Take(20).Select(line => line.Split(','))
                .Select(f => JsonDocument.Parse($"{{\"Label\":{f[0]},\"Score\":{f[1]},\"Features\":{f[2]}}}").RootElement).ToList();

            var inputSchema = loader.GetOutputSchema();
            var outputSchema = model.GetOutputSchema(inputSchema);
            var input = new PredictionInput(Schema, inputSchema, FeaturePipeline.KnownCategories(Schema, outputSchema));
            var outputs = ModelOutputs.Read(Schema, outputSchema);
            var scorer = new RowScorer(model, inputSchema, outputs, input.Kinds, CompiledTrees.For(model, outputs.Task));
            var read = input.Read(rows);
            var served = Enumerable.Range(0, rows.Count).Select(r => scorer.Score(read, r).Score!.Value).ToArray();

            for (var r = 0; r < served.Length; r++) Assert.Equal(expected[r], served[r], 1e-4 * Math.Max(1, Math.Abs(expected[r])));
            // The answers are the model's, not the request's Score column.
            Assert.NotEqual(rows.Select(row => (float)row.GetProperty("Score").GetDouble()), served);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
