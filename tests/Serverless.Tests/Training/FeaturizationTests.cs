using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>
/// The featurization of a wide table: columns of one kind share one transform, in one flat chain, so its cost does not
/// grow with a transform (and a pass over the rows) per column; every column is still featurized on its own.
/// </summary>
public sealed class FeaturizationTests
{
    private const int Numbers = 300;

    [Fact]
    public void Featurize_ThreeHundredNumbersTwoFlagsTwoCategories_OneFlatChainOfATransformPerKind()
    {
        var (schema, data, ml) = WideTable(rows: 40);

        var model = FeaturePipeline.Featurize(ml, schema, distinctCounts: null, normalize: false).Fit(data);

        var steps = Assert.IsAssignableFrom<IEnumerable<ITransformer>>(model).ToList();
        // Missing numbers, flags, categories (one-hot: value-to-key and key-to-vector), the concatenation.
        Assert.InRange(steps.Count, 4, 6);
        Assert.DoesNotContain(steps, s => s is IEnumerable<ITransformer>);

        var features = model.Transform(data);
        var width = ((VectorDataViewType)features.Schema[FeaturePipeline.FeaturesColumn].Type).Size;
        Assert.Equal(Numbers + 2 + 3 + 2, width);

        // Each number's missing cell becomes that column's own mean; the flags and categories are encoded per column.
        var rows = FeatureRows(features);
        for (var c = 0; c < Numbers; c++)
        {
            var observed = Enumerable.Range(1, rows.Count - 1).Select(r => Value(r, c)).Average();
            Assert.Equal(observed, rows[0][c], 3);
            Assert.Equal(Value(5, c), rows[5][c]);
        }
        // Row 1: f0 true, f1 false; c0 "k1" (second of k0, k1, k2 as they occur), c1 "m1" (second of m0, m1).
        Assert.Equal([1f, 0f, 0f, 1f, 0f, 0f, 1f], rows[1][Numbers..]);
    }

    [Fact]
    public void Featurize_ForALinearTrainer_MapsEverySlotOntoZeroToOne()
    {
        var (schema, data, ml) = WideTable(rows: 40);

        var model = FeaturePipeline.Featurize(ml, schema, distinctCounts: null, normalize: true).Fit(data);

        var rows = FeatureRows(model.Transform(data));
        var width = rows[0].Length;
        for (var slot = 0; slot < width; slot++)
        {
            // Number c runs from c to c + 28, all positive: its smallest value must land on 0, not on c / (c + 28) as when 0 is kept fixed.
            Assert.Equal(0f, rows.Min(r => r[slot]), 5);
            Assert.Equal(1f, rows.Max(r => r[slot]), 5);
        }
        // A number's cells keep their order and spacing: row 5's is (value - min) / (max - min) of its column.
        var values = Enumerable.Range(1, rows.Count - 1).Select(r => Value(r, 100)).ToList();
        Assert.Equal((Value(5, 100) - values.Min()) / (values.Max() - values.Min()), rows[5][100], 5);
        // Flags and one-hot slots are 0 or 1 already and stay so.
        Assert.Equal([1f, 0f, 0f, 1f, 0f, 0f, 1f], rows[1][Numbers..]);
    }

    /// <summary>Each row's feature vector, dense.</summary>
    private static List<float[]> FeatureRows(IDataView featurized) =>
        [.. featurized.GetColumn<VBuffer<float>>(FeaturePipeline.FeaturesColumn).Select(v => v.DenseValues().ToArray())];

    // Cell (row, column) of the numbers; row 0 leaves every number empty.
    private static float Value(int row, int column) => (float)((row * 7 + column * 13) % 29 + column);

    private static (DatasetSchema Schema, IDataView Data, MLContext Ml) WideTable(int rows)
    {
        var numbers = Enumerable.Range(0, Numbers).Select(i => $"n{i}").ToList();
        string[] flags = ["f0", "f1"];
        string[] categories = ["c0", "c1"];
        var columns = numbers.Select(n => new ColumnSchema(n, ColumnKind.Numeric))
            .Concat(flags.Select(f => new ColumnSchema(f, ColumnKind.Boolean)))
            .Concat(categories.Select(c => new ColumnSchema(c, ColumnKind.Categorical)))
            .Append(new ColumnSchema("y", ColumnKind.Numeric)).ToList();
        var schema = new DatasetSchema
        {
            Columns = columns, Label = "y", Task = TaskKind.Regression,
            Features = [.. numbers, .. flags, .. categories],
        };
        var csv = new StringBuilder(string.Join(",", columns.Select(c => c.Name))).Append('\n');
        for (var r = 0; r < rows; r++)
        {
            var cells = Enumerable.Range(0, Numbers).Select(c => r == 0 ? "" : Value(r, c).ToString(CultureInfo.InvariantCulture))
                .Concat([r % 2 == 1 ? "true" : "false", r % 3 == 0 ? "true" : "false", $"k{r % 3}", $"m{r % 2}", r.ToString(CultureInfo.InvariantCulture)]);
            csv.Append(string.Join(",", cells)).Append('\n');
        }
        var path = Path.Combine(Directory.CreateTempSubdirectory("featurize-").FullName, "data.csv");
        File.WriteAllText(path, csv.ToString());
        var ml = FeaturePipeline.Context(42);
        return (schema, FeaturePipeline.Loader(ml, schema).Load(path), ml);
    }
}
