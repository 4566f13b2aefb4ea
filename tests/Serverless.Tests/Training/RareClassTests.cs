using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.ML;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.Tests.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>
/// A binary label written yes/no whose class 'yes' is too rare to hold out for every measure: the split says so before
/// any candidate trains, and every message names the class as the file writes it.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RareClassTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Shortfall_YesNoLabelWithThreeYes_NamesYesBeforeTraining()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("rare");
        var csv = new StringBuilder("x,answer\n");
        for (var row = 0; row < 500; row++) csv.Append(CultureInfo.InvariantCulture, $"{row % 37},{(row % 167 == 5 ? "yes" : "no")}\n");
        var outcome = await ingestion.IngestAsync($"{model}/rare.csv", csv.ToString(), new ModelSpec { Label = "answer", Task = TaskKind.Binary });
        Assert.Equal(IngestionStatus.Accepted, outcome.Status);
        var trainer = new ModelTrainer(ingestion.Storage, ingestion.Datasets, new ExperimentRuns(ingestion.Storage),
            Options.Create(new TrainingOptions()), NullLogger<ModelTrainer>.Instance);

        var split = await trainer.SplitAsync(model, outcome.DatasetVersion!, 42, null, CancellationToken.None);

        var shortfall = split.Shortfall(folds: 5);
        Assert.NotNull(shortfall);
        Assert.StartsWith("The label's class 'yes' has 3 rows", shortfall, StringComparison.Ordinal);
        Assert.DoesNotContain("'true'", shortfall, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_BinaryRowsOfOneClass_NamesTheMissingClassAsWritten()
    {
        var schema = new DatasetSchema
        {
            Columns = [new("x", ColumnKind.Numeric), new("answer", ColumnKind.Boolean)],
            Label = "answer",
            Task = TaskKind.Binary,
            Features = ["x"],
            Classes = ["false", "true"],
            ClassesAsWritten = new Dictionary<string, string> { ["false"] = "no", ["true"] = "yes" },
        };
        var ml = FeaturePipeline.Context(1);
        var scored = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(i => new ScoredRow { Label = false, Score = -i, Probability = 0.1f, PredictedLabel = false }));

        var error = Assert.Throws<InvalidOperationException>(() => ModelEvaluation.Evaluate(ml, schema, scored));

        Assert.StartsWith("10 rows scored together hold no row of class 'yes'", error.Message, StringComparison.Ordinal);
    }

    private sealed class ScoredRow
    {
        public bool Label { get; set; }
        public float Score { get; set; }
        public float Probability { get; set; }
        public bool PredictedLabel { get; set; }
    }
}
