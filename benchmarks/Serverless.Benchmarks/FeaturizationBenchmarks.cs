using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Benchmarks;

/// <summary>
/// The featurization of a wide table, fitted and then read once (as every candidate's fit does): numbers with missing
/// cells, two flags and two categories, <see cref="Rows"/> rows. <see cref="FeaturePipeline.Featurize"/> against the
/// baseline, the same transforms written by hand as one multi-column ML.NET transform per kind; and, for the record of
/// why it is built that way, the same numbers with one ReplaceMissingValues per column in a flat chain.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class FeaturizationBenchmarks
{
    private MLContext _ml = null!;
    private DatasetSchema _schema = null!;
    private IDataView _data = null!;
    private string[] _numbers = [];

    [Params(30, 300)]
    public int Numbers { get; set; }

    [Params(1000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ml = FeaturePipeline.Context(42);
        (_schema, var path) = WideTable.Write(Numbers, Rows);
        _numbers = [.. _schema.Features.Where(f => _schema.Column(f).Kind == ColumnKind.Numeric)];
        // In memory, so every method reads the same rows at the same cost and no file read is timed.
        _data = _ml.Data.Cache(FeaturePipeline.Loader(_ml, _schema).Load(path));
        using var cursor = _data.GetRowCursor(_data.Schema);
        while (cursor.MoveNext()) { }
    }

    [Benchmark(Baseline = true)]
    public double OneTransformPerKindByHand()
    {
        var estimator = _ml.Transforms.ReplaceMissingValues([.. _numbers.Select(Pair)], MissingValueReplacingEstimator.ReplacementMode.Mean)
            .Append(_ml.Transforms.Conversion.ConvertType([Pair(WideTable.Flags[0]), Pair(WideTable.Flags[1])], DataKind.Single))
            .Append(_ml.Transforms.Categorical.OneHotEncoding([Pair(WideTable.Categories[0]), Pair(WideTable.Categories[1])]))
            .Append(_ml.Transforms.Concatenate(FeaturePipeline.FeaturesColumn, [.. _schema.Features.Select(FeaturePipeline.FeatureColumn)]));
        return FitAndRead(estimator);
    }

    [Benchmark]
    public double Featurize() => FitAndRead(FeaturePipeline.Featurize(_ml, _schema, distinctCounts: null, normalize: false));

    [Benchmark]
    public double OneTransformPerNumber()
    {
        var chain = new EstimatorChain<ITransformer>();
        foreach (var number in _numbers)
        {
            chain = chain.Append<ITransformer>(_ml.Transforms.ReplaceMissingValues(FeaturePipeline.FeatureColumn(number), number, MissingValueReplacingEstimator.ReplacementMode.Mean));
        }
        var estimator = chain
            .Append(_ml.Transforms.Conversion.ConvertType([Pair(WideTable.Flags[0]), Pair(WideTable.Flags[1])], DataKind.Single))
            .Append(_ml.Transforms.Categorical.OneHotEncoding([Pair(WideTable.Categories[0]), Pair(WideTable.Categories[1])]))
            .Append(_ml.Transforms.Concatenate(FeaturePipeline.FeaturesColumn, [.. _schema.Features.Select(FeaturePipeline.FeatureColumn)]));
        return FitAndRead(estimator);
    }

    private static InputOutputColumnPair Pair(string column) => new(FeaturePipeline.FeatureColumn(column), column);

    private double FitAndRead<T>(IEstimator<T> estimator) where T : ITransformer => ReadFeatures(estimator.Fit(_data).Transform(_data));

    // One pass over the features, as a trainer makes: the sum of every row's first slot, so nothing is skipped.
    private static double ReadFeatures(IDataView view)
    {
        var sum = 0.0;
        foreach (var row in view.GetColumn<VBuffer<float>>(FeaturePipeline.FeaturesColumn)) sum += row.GetItemOrDefault(0);
        return sum;
    }
}

/// <summary>A generated wide table: numbers (every seventh cell empty), two flags, two categories and a numeric label.</summary>
internal static class WideTable
{
    public static readonly string[] Flags = ["flag0", "flag1"];
    public static readonly string[] Categories = ["cat0", "cat1"];
    private const string Label = "y";

    public static (DatasetSchema Schema, string Path) Write(int numbers, int rows)
    {
        var names = Enumerable.Range(0, numbers).Select(i => $"n{i}").ToList();
        var columns = names.Select(n => new ColumnSchema(n, ColumnKind.Numeric))
            .Concat(Flags.Select(f => new ColumnSchema(f, ColumnKind.Boolean)))
            .Concat(Categories.Select(c => new ColumnSchema(c, ColumnKind.Categorical)))
            .Append(new ColumnSchema(Label, ColumnKind.Numeric)).ToList();
        var schema = new DatasetSchema { Columns = columns, Label = Label, Task = TaskKind.Regression, Features = [.. names, .. Flags, .. Categories] };
        var random = new Random(7);
        var csv = new StringBuilder(string.Join(",", columns.Select(c => c.Name))).Append('\n');
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < numbers; c++)
            {
                if ((r + c) % 7 != 0) csv.Append((random.NextDouble() * 100).ToString("F3", CultureInfo.InvariantCulture));
                csv.Append(',');
            }
            csv.Append(random.Next(2) == 1 ? "true," : "false,").Append(random.Next(3) == 0 ? "true," : "false,");
            csv.Append("k").Append(random.Next(5)).Append(",m").Append(random.Next(3)).Append(',');
            csv.Append((random.NextDouble() * 10).ToString("F3", CultureInfo.InvariantCulture)).Append('\n');
        }
        var path = Path.Combine(Directory.CreateTempSubdirectory("wide-").FullName, "wide.csv");
        File.WriteAllText(path, csv.ToString());
        return (schema, path);
    }
}
