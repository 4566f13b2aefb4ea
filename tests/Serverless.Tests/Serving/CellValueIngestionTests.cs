using Microsoft.ML.Data;
using Microsoft.ML;
using System.Text;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Serving;

/// <summary>The ingestion side of <see cref="CellValueTable"/>: what the canonical data file holds for each cell (the predict side is in <see cref="PredictInputTests"/>).</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CellValueIngestionTests(AzuriteFixture azurite)
{
    private static readonly Dictionary<ColumnKind, string> Columns = new() { [ColumnKind.Numeric] = "n", [ColumnKind.Boolean] = "b", [ColumnKind.Categorical] = "c" };

    [Fact]
    public async Task Ingest_CellValueTable_CanonicalDataHoldsWhatTheTableSays()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("cells");
        var csv = new StringBuilder("n,b,c,y\n");
        for (var i = 0; i < CellValueTable.Cases.Count; i++)
        {
            var @case = CellValueTable.Cases[i];
            string Cell(ColumnKind kind, string filler) => @case.Kind == kind ? Quote(@case.Cell) : filler;
            csv.Append($"{Cell(ColumnKind.Numeric, "1")},{Cell(ColumnKind.Boolean, "true")},{Cell(ColumnKind.Categorical, "north")},{1000 + i}\n");
        }
        for (var i = 0; i < 40; i++) csv.Append($"{i},{(i % 2 == 0 ? "yes" : "no")},{(i % 3 == 0 ? "south" : "east")},{i}\n");
        var spec = new ModelSpec
        {
            Label = "y",
            Task = TaskKind.Regression,
            Columns = new() { ["n"] = ColumnKind.Numeric, ["b"] = ColumnKind.Boolean, ["c"] = ColumnKind.Categorical },
        };

        var outcome = await ingestion.IngestAsync($"{model}/cells.csv", csv.ToString(), spec);

        Assert.Equal(IngestionStatus.Accepted, outcome.Status);
        var manifest = await ingestion.Datasets.GetManifestAsync(model, outcome.DatasetVersion!, CancellationToken.None);
        using var reader = CanonicalCsv.OpenReader(new StringReader(await ingestion.ReadDataAsync(manifest!)));
        var cells = new Dictionary<int, Dictionary<string, string>>();
        while (reader.Read())
        {
            var y = int.Parse(reader.GetString(reader.GetOrdinal("y")), System.Globalization.CultureInfo.InvariantCulture);
            cells[y] = Columns.Values.ToDictionary(c => c, c => reader.GetString(reader.GetOrdinal(c)));
        }
        var wrong = new List<string>();
        for (var i = 0; i < CellValueTable.Cases.Count; i++)
        {
            var @case = CellValueTable.Cases[i];
            var held = CellValueTable.Canonical(@case.Kind, cells[1000 + i][Columns[@case.Kind]]);
            if (held != @case.Value) wrong.Add($"{@case}: the canonical data holds {held ?? "missing"}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        // Training reads them as false (below), and the dataset version says so.
        var missingBooleans = CellValueTable.Cases.Count(c => c.Kind == ColumnKind.Boolean && c.Value is null);
        Assert.Contains($"'b': {missingBooleans} missing value(s) of this boolean column are read as false", string.Join("\n", manifest!.Schema.Inferred));
    }

    /// <summary>
    /// Training reads a missing boolean of the canonical data (an empty cell) as false, which is why predict fills a
    /// missing boolean with false: the model learnt such rows so.
    /// </summary>
    [Fact]
    public void TrainingLoader_EmptyBooleanCell_ReadsAsFalse()
    {
        var schema = new DatasetSchema
        {
            Columns = [new ColumnSchema("b", ColumnKind.Boolean), new ColumnSchema("y", ColumnKind.Numeric)],
            Label = "y", Task = TaskKind.Regression, Features = ["b"],
        };
        var path = Path.Combine(Path.GetTempPath(), $"booleans-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "b,y\ntrue,1\n,2\nfalse,3\n");
        try
        {
            var ml = FeaturePipeline.Context(1);
            var read = FeaturePipeline.Loader(ml, schema).Load(new Microsoft.ML.Data.MultiFileSource(path)).GetColumn<bool>("b").ToArray();

            Assert.Equal([true, false, false], read);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Quote(string cell) => cell.Contains(',') || cell.Contains('"') ? $"\"{cell.Replace("\"", "\"\"")}\"" : cell;
}
