using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Benchmarks;

/// <summary>
/// One taxi row scored in-process by the serving path (a pooled <see cref="RowScorer"/> over rows read straight from JSON,
/// with the model's <see cref="CompiledTrees"/> where it has them, and without) against ML.NET's typed
/// <see cref="PredictionEngine{TSrc,TDst}"/> on the same model: the fastest ML.NET path for a
/// type known at compile time, the baseline. Models: the default candidates that win on taxi, trained on 20,000 rows.
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private const string Row = """{"vendor_id":"CMT","rate_code":1,"passenger_count":1,"trip_time_in_secs":1271,"trip_distance":3.8,"payment_type":"CRD"}""";

    private PredictionEngine<TaxiRow, TaxiScore> _engine = null!;
    private RowScorer _scorer = null!;
    private RowScorer _mapperScorer = null!;
    private PredictionInput _input = null!;
    private ModelInput _read = null!;
    private JsonElement[] _rows = null!;
    private const int BatchRows = 1000;
    private ITransformer _model = null!;
    private DataOperationsCatalog _ml = null!;
    private TaxiRow[] _batch = null!;
    private ModelInput _batchInput = null!;
    private readonly TaxiRow _typed = new() { vendor_id = "CMT", rate_code = 1, passenger_count = 1, trip_time_in_secs = 1271, trip_distance = 3.8f, payment_type = "CRD" };

    [Params("LightGbm 31x100", "LightGbm 63x400", "FastTree 31x300", Blend.Name)]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var schema = TaxiModels.Schema;
        var ml = FeaturePipeline.Context(42);
        var model = TaxiModels.Train(ml, Model, 20_000);
        var inputSchema = FeaturePipeline.Loader(ml, schema, withLabel: false).GetOutputSchema();
        var outputs = ModelOutputs.Read(schema, model.GetOutputSchema(inputSchema));
        _input = new PredictionInput(schema, inputSchema, FeaturePipeline.KnownCategories(schema, model.GetOutputSchema(inputSchema)));
        _scorer = new RowScorer(model, inputSchema, outputs, _input.Kinds, CompiledTrees.For(model, schema.Task));
        _mapperScorer = new RowScorer(model, inputSchema, outputs, _input.Kinds);
        _rows = [JsonDocument.Parse(Row).RootElement];
        _read = _input.Read(_rows);
        _model = model;
        _ml = ml.Data;
        var lines = File.ReadLines(Path.Combine(BenchmarkHost.TaxiFolder, "taxi-fare-test.csv")).Skip(1).Take(BatchRows).Select(l => l.Split(',')).ToList();
        _batch = [.. lines.Select(f => new TaxiRow { vendor_id = f[0], rate_code = float.Parse(f[1], CultureInfo.InvariantCulture), passenger_count = float.Parse(f[2], CultureInfo.InvariantCulture),
            trip_time_in_secs = float.Parse(f[3], CultureInfo.InvariantCulture), trip_distance = float.Parse(f[4], CultureInfo.InvariantCulture), payment_type = f[5] })];
        _batchInput = _input.Read([.. _batch.Select(b => JsonSerializer.SerializeToElement(b))]);
        _engine = ml.Model.CreatePredictionEngine<TaxiRow, TaxiScore>(model, inputSchema: inputSchema);
    }

    [Benchmark(Baseline = true)]
    public float TypedPredictionEngine() => _engine.Predict(_typed).Score;

    [Benchmark]
    public float RowScorerOnly() => _scorer.Score(_read, 0).Score ?? 0;

    /// <summary>The same scorer without <see cref="CompiledTrees"/>: the model's own mapper end to end.</summary>
    [Benchmark]
    public float RowScorerMLNetMapper() => _mapperScorer.Score(_read, 0).Score ?? 0;

    [Benchmark]
    public float ReadAndScore() => _scorer.Score(_input.Read(_rows, _scorer.OneRow), 0).Score ?? 0;

    [Benchmark(OperationsPerInvoke = BatchRows)]
    public float BatchTransform()
    {
        var sum = 0f;
        foreach (var score in _model.Transform(_ml.LoadFromEnumerable(_batch)).GetColumn<float>(ModelOutputs.ScoreColumn)) sum += score;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchRows)]
    public float BatchRowScorer()
    {
        var sum = 0f;
        for (var r = 0; r < _batchInput.Count; r++) sum += _scorer.Score(_batchInput, r).Score ?? 0;
        return sum;
    }
}

/// <summary>
/// One taxi ride's payment type (four classes, from vendor, rate code, passengers, time and distance) scored in-process by the serving path, with the model's
/// <see cref="CompiledTrees"/> and without (ML.NET's one-versus-all mapper, which scores the classes in parallel on the
/// thread pool), against ML.NET's typed <see cref="PredictionEngine{TSrc,TDst}"/> on the same model, the baseline.
/// </summary>
[MemoryDiagnoser]
public class MulticlassScoringBenchmarks
{
    private PredictionEngine<TaxiRow, TaxiClassScores> _engine = null!;
    private RowScorer _scorer = null!;
    private RowScorer _mapperScorer = null!;
    private ModelInput _read = null!;
    private readonly TaxiRow _typed = new() { vendor_id = "CMT", rate_code = 1, passenger_count = 1, trip_time_in_secs = 1271, trip_distance = 3.8f };
    private const string Row = """{"vendor_id":"CMT","rate_code":1,"passenger_count":1,"trip_time_in_secs":1271,"trip_distance":3.8}""";

    [Params("LightGbm 31x100", "FastTree 31x100")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var schema = TaxiModels.Payment;
        var ml = FeaturePipeline.Context(42);
        var model = TaxiModels.Train(ml, Model, 20_000, schema);
        var inputSchema = FeaturePipeline.Loader(ml, schema, withLabel: false).GetOutputSchema();
        var outputs = ModelOutputs.Read(schema, model.GetOutputSchema(inputSchema));
        var input = new PredictionInput(schema, inputSchema, FeaturePipeline.KnownCategories(schema, model.GetOutputSchema(inputSchema)));
        _scorer = new RowScorer(model, inputSchema, outputs, input.Kinds, CompiledTrees.For(model, schema.Task) ?? throw new InvalidOperationException($"{Model} is not compiled."));
        _mapperScorer = new RowScorer(model, inputSchema, outputs, input.Kinds);
        _read = input.Read([JsonDocument.Parse(Row).RootElement]);
        _engine = ml.Model.CreatePredictionEngine<TaxiRow, TaxiClassScores>(model, inputSchema: inputSchema);
    }

    [Benchmark(Baseline = true)]
    public float TypedPredictionEngine() => _engine.Predict(_typed).Score[0];

    [Benchmark]
    public float RowScorerOnly() => _scorer.Score(_read, 0).Probabilities!.Count;

    /// <summary>The same scorer without <see cref="CompiledTrees"/>: the model's own mapper end to end.</summary>
    [Benchmark]
    public float RowScorerMLNetMapper() => _mapperScorer.Score(_read, 0).Probabilities!.Count;
}

/// <summary>The taxi schema and models trained on its first rows, as the pipeline featurizes them.</summary>
internal static class TaxiModels
{
    public static readonly DatasetSchema Schema = new()
    {
        Columns =
        [
            new("vendor_id", ColumnKind.Categorical), new("rate_code", ColumnKind.Numeric), new("passenger_count", ColumnKind.Numeric),
            new("trip_time_in_secs", ColumnKind.Numeric), new("trip_distance", ColumnKind.Numeric), new("payment_type", ColumnKind.Categorical),
            new("fare_amount", ColumnKind.Numeric),
        ],
        Label = "fare_amount",
        Task = TaskKind.Regression,
        Features = ["vendor_id", "rate_code", "passenger_count", "trip_time_in_secs", "trip_distance", "payment_type"],
    };

    /// <summary>How a ride is paid (four classes), from the rest of the row: a multiclass task on the same file.</summary>
    public static readonly DatasetSchema Payment = Schema with
    {
        Task = TaskKind.Multiclass, Label = "payment_type", Classes = ["CRD", "CSH", "DIS", "NOC"],
        Features = ["vendor_id", "rate_code", "passenger_count", "trip_time_in_secs", "trip_distance"],
    };

    /// <summary>"Trainer LEAVESxROUNDS", e.g. "LightGbm 63x400", at the default candidates' learning rates; or the blend of the small-data defaults; fit as a run fits it.</summary>
    public static ITransformer Train(MLContext ml, string name, int rows, DatasetSchema? schema = null)
    {
        schema ??= Schema;
        var file = Path.Combine(Path.GetTempPath(), $"taxi-{rows}.csv");
        if (!File.Exists(file)) File.WriteAllLines(file, File.ReadLines(Path.Combine(BenchmarkHost.TaxiFolder, "taxi-fare-train.csv")).Take(rows + 1));
        var data = FeaturePipeline.Loader(ml, schema).Load(file);
        return ModelTrainer.Fit(ml, schema, null, Candidate(name), 42, data).Model;
    }

    private static CandidateSpec Candidate(string name)
    {
        if (name == Blend.Name) return new CandidateSpec(Blend.Name, new Dictionary<string, double>());
        var parts = name.Split(' ', 'x');
        var (trainer, leaves, rounds) = (parts[0], double.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture));
        return new CandidateSpec(trainer, new Dictionary<string, double>
        {
            ["numberOfLeaves"] = leaves, ["numberOfIterations"] = rounds, ["learningRate"] = rounds >= 400 ? 0.05 : 0.1, ["minimumExampleCountPerLeaf"] = 20,
        });
    }
}

#pragma warning disable IDE1006 // The names are the data's column names.
public sealed class TaxiRow
{
    public string vendor_id { get; set; } = "";
    public float rate_code { get; set; }
    public float passenger_count { get; set; }
    public float trip_time_in_secs { get; set; }
    public float trip_distance { get; set; }
    public string payment_type { get; set; } = "";
}
#pragma warning restore IDE1006

public sealed class TaxiScore
{
    public float Score { get; set; }
}

public sealed class TaxiClassScores
{
    public float[] Score { get; set; } = [];
}
