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
/// A blend of data whose columns are named like ML.NET's outputs (Features, Score, PredictedLabel, Probability): every
/// member reads the data's columns, not an earlier member's outputs of the same name.
/// </summary>
public sealed class BlendColumnNameTests
{
    private const int Seed = 42;

    [Fact]
    public void Regression_ColumnsNamedFeaturesAndScore_AnswersTheMeanOfItsMembersOnTheData()
    {
        var schema = new DatasetSchema
        {
            Columns = [new("x", ColumnKind.Numeric), new("Features", ColumnKind.Numeric), new("Score", ColumnKind.Numeric), new("y", ColumnKind.Numeric)],
            Label = "y",
            Task = TaskKind.Regression,
            Features = ["x", "Features", "Score"],
        };
        var random = new Random(7);
        var file = Write("x,Features,Score,y", Enumerable.Range(0, 300).Select(_ =>
        {
            double x = random.NextDouble() * 10, f = random.NextDouble() * 5, s = random.NextDouble() * 3;
            return Invariant($"{x:F3},{f:F3},{s:F3},{2 * x + 3 * f - s + random.NextDouble():F3}");
        }));
        try
        {
            var blend = Scored(schema, file, new CandidateSpec(Blend.Name, new Dictionary<string, double>()));
            var members = Blend.Members();

            for (var i = 0; i < members.Count; i++)
            {
                var alone = Scored(schema, file, members[i]).GetColumn<float>(ModelOutputs.ScoreColumn).ToArray();
                var inBlend = blend.GetColumn<float>(Blend.MemberColumn(i)).ToArray();
                // Sdca draws its shuffles from the context's random numbers, which the members before it have used: alone
                // it answers within a few hundredths of its answer in the blend (0.05 on this data, as on columns x, a, b).
                for (var row = 0; row < alone.Length; row++)
                {
                    var tolerance = TrainerCatalog.IsLinear(members[i].Trainer) ? 0.2 : 1e-4 * Math.Max(1, Math.Abs(alone[row]));
                    Assert.True(Math.Abs(alone[row] - inBlend[row]) <= tolerance,
                        $"member {i} ({members[i]}), row {row}: {inBlend[row]} in the blend, {alone[row]} alone");
                }
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Binary_ColumnsNamedPredictedLabelProbabilityFeaturesLabel_Trains()
    {
        var schema = new DatasetSchema
        {
            Columns = [new("PredictedLabel", ColumnKind.Numeric), new("Probability", ColumnKind.Numeric), new("Features", ColumnKind.Categorical), new("Label", ColumnKind.Categorical)],
            Label = "Label",
            Task = TaskKind.Binary,
            Features = ["PredictedLabel", "Probability", "Features"],
            Classes = ["no", "yes"],
        };
        var random = new Random(7);
        var file = Write("PredictedLabel,Probability,Features,Label", Enumerable.Range(0, 300).Select(_ =>
        {
            double a = random.NextDouble() * 10, b = random.NextDouble();
            var c = random.Next(2) == 0 ? "p" : "q";
            return Invariant($"{a:F3},{b:F3},{c},{(a + (c == "p" ? 2 : 0) + random.NextDouble() * 3 > 7 ? "yes" : "no")}");
        }));
        try
        {
            var probabilities = Scored(schema, file, new CandidateSpec(Blend.Name, new Dictionary<string, double>())).GetColumn<float>(ModelOutputs.ProbabilityColumn);

            Assert.All(probabilities, p => Assert.InRange(p, 0f, 1f));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Fits <paramref name="candidate"/> on every row of <paramref name="file"/> as a run does and scores the rows.</summary>
    private static IDataView Scored(DatasetSchema schema, string file, CandidateSpec candidate)
    {
        var ml = FeaturePipeline.Context(Seed);
        var data = FeaturePipeline.Loader(ml, schema).Load(file);
        var (model, label) = ModelTrainer.Fit(ml, schema, null, candidate, Seed, data);
        return ml.Data.Cache(model.Transform(label.Transform(data)));
    }

    private static string Write(string header, IEnumerable<string> rows)
    {
        var file = Path.Combine(Path.GetTempPath(), $"blend-names-{Guid.NewGuid():N}.csv");
        File.WriteAllText(file, header + "\n" + string.Join("\n", rows) + "\n", Encoding.UTF8);
        return file;
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
