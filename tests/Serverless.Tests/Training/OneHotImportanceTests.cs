using Microsoft.ML;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>
/// The importance of a categorical column is what shuffling that column does. ML.NET's PFI shuffles each one-hot input
/// on its own, which makes rows with no city or two, and the sum of those inputs' changes is another number: such a
/// model's columns are shuffled in the data instead. A model whose columns are one input each keeps ML.NET's PFI.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OneHotImportanceTests(AzuriteFixture azurite)
{
    private const int OraclePermutations = 30;

    [Theory]
    [InlineData("spend", TaskKind.Regression, Metrics.Rmse, "city")]
    [InlineData("churn", TaskKind.Binary, Metrics.Auc, "city")]
    [InlineData("fare_amount", TaskKind.Regression, Metrics.Rmse, "payment_type")]
    public async Task CategoricalColumn_ItsImportanceIsThatOfShufflingTheColumn(string label, TaskKind task, string metric, string column)
    {
        var taxi = label == "fare_amount" ? TestData.TaxiSlice(3000) : null;
        var trained = await TrainedCandidate.TrainAsync(azurite, "onehot", "Sdca", label, task, taxi is null ? ["note", "email", "day"] : [], taxi);
        var folder = Directory.CreateTempSubdirectory("onehot-pfi-");
        try
        {
            var pfi = await ModelExplainer.ExplainModelAsync(trained.Ml, trained.Model, trained.TestCsv, folder.FullName, trained.Schema, metric, 42, CancellationToken.None);

            Assert.True(pfi.ColumnsShuffled, $"{column} became several inputs");
            var effect = pfi.Features.Single(f => f.Feature == column);
            var (mean, error) = await ShuffledColumnChangeAsync(trained, column, metric, folder.FullName);
            Assert.True(Math.Abs(effect.Change - mean) <= 4 * (effect.StandardError + error) + 1e-9,
                $"the card's change of {metric} for {column}, {effect.Change} ± {effect.StandardError}, against shuffling the column {OraclePermutations} times, {mean} ± {error}");
        }
        finally
        {
            folder.Delete(recursive: true);
            File.Delete(trained.TestCsv);
        }
    }

    [Fact]
    public async Task ModelOfOneInputAColumn_KeepsMlNetsPfi()
    {
        var trained = await TrainedCandidate.TrainAsync(azurite, "oneinput", "Sdca", "spend", TaskKind.Regression, ["note", "email", "day", "city"]);
        var folder = Directory.CreateTempSubdirectory("oneinput-pfi-");
        try
        {
            var pfi = await ModelExplainer.ExplainModelAsync(trained.Ml, trained.Model, trained.TestCsv, folder.FullName, trained.Schema, Metrics.Rmse, 42, CancellationToken.None);

            Assert.False(pfi.ColumnsShuffled);
            Assert.Equal(["distance", "member"], pfi.Features.Select(f => f.Feature).ToArray());
        }
        finally
        {
            folder.Delete(recursive: true);
            File.Delete(trained.TestCsv);
        }
    }

    /// <summary>The mean change of <paramref name="metric"/>, and its standard error, over shuffles of one column of the test rows, each scored by the whole model.</summary>
    private static async Task<(double Mean, double Error)> ShuffledColumnChangeAsync(TrainedCandidate trained, string column, string metric, string folder)
    {
        var rows = new List<string?[]>();
        string[] header = [];
        await foreach (var (names, fields) in CanonicalCsv.ReadRecordsAsync(trained.TestCsv, CancellationToken.None))
        {
            header = names;
            rows.Add(fields);
        }
        var index = Array.IndexOf(header, column);
        var original = rows.Select(r => r[index]).ToArray();
        var file = Path.Combine(folder, "oracle.csv");
        double Score()
        {
            CanonicalCsv.WriteFile(file, header, rows);
            var data = FeaturePipeline.Loader(trained.Ml, trained.Schema).Load(file);
            return ModelEvaluation.Evaluate(trained.Ml, trained.Schema, trained.Model.Transform(FeaturePipeline.FitLabel(trained.Ml, trained.Schema, data).Transform(data)))[metric];
        }
        var baseline = Score();
        var random = new Random(7);
        var changes = new double[OraclePermutations];
        for (var p = 0; p < changes.Length; p++)
        {
            var shuffled = (string?[])original.Clone();
            random.Shuffle(shuffled);
            for (var i = 0; i < rows.Count; i++) rows[i][index] = shuffled[i];
            changes[p] = Score() - baseline;
        }
        var mean = changes.Average();
        return (mean, Math.Sqrt(changes.Sum(c => (c - mean) * (c - mean)) / (changes.Length - 1) / changes.Length));
    }
}
