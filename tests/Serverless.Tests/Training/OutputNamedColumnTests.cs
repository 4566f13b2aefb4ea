using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>
/// A regression whose feature columns are named Label, Score and Features, as ML.NET names its own columns: the model
/// answers the rows as served (read without the label, as serving reads a request) what it answered them in training,
/// so no name of the data stands for the label or an output while it learns.
/// </summary>
public sealed class OutputNamedColumnTests
{
    private const int Seed = 42;

    [Theory]
    [InlineData("FastTree")]
    [InlineData("Sdca")]
    [InlineData("Blend")]
    public void Fit_FeaturesNamedLabelScoreFeatures_AnswersServedRowsAsInTraining(string trainer)
    {
        var schema = new DatasetSchema
        {
            Columns = [new("Label", ColumnKind.Numeric), new("Score", ColumnKind.Numeric), new("Features", ColumnKind.Numeric), new("y", ColumnKind.Numeric)],
            Label = "y",
            Task = TaskKind.Regression,
            Features = ["Label", "Score", "Features"],
        };
        var random = new Random(7);
        var file = Path.Combine(Path.GetTempPath(), $"output-names-{Guid.NewGuid():N}.csv");
        File.WriteAllText(file, "Label,Score,Features,y\n" + string.Join("\n", Enumerable.Range(0, 300).Select(_ =>
        {
            double a = random.NextDouble() * 10, b = random.NextDouble() * 5, c = random.NextDouble() * 3;
            return string.Create(CultureInfo.InvariantCulture, $"{a:F3},{b:F3},{c:F3},{a - 2 * b + 4 * c + random.NextDouble() * 20:F3}");
        })) + "\n", Encoding.UTF8);
        try
        {
            var ml = FeaturePipeline.Context(Seed);
            var data = FeaturePipeline.Loader(ml, schema).Load(file);
            var (model, label) = ModelTrainer.Fit(ml, schema, null, new CandidateSpec(trainer, new Dictionary<string, double>()), Seed, data);

            var inTraining = model.Transform(label.Transform(data)).GetColumn<float>(ModelOutputs.ScoreColumn).ToArray();
            var served = model.Transform(FeaturePipeline.Loader(ml, schema, withLabel: false).Load(file)).GetColumn<float>(ModelOutputs.ScoreColumn).ToArray();

            Assert.Equal(inTraining.Length, served.Length);
            for (var row = 0; row < served.Length; row++) Assert.Equal(inTraining[row], served[row], 1e-4 * Math.Max(1, Math.Abs(inTraining[row])));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
