using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Serving;

/// <summary>
/// The compiled trees answer what ML.NET's own transform of the model answers, float for float, on real taxi rows, for
/// every regression trainer they take; rows with a missing feature and every other kind of model are left to ML.NET.
/// </summary>
public sealed class CompiledTreesTests
{
    private static readonly DatasetSchema Taxi = new()
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

    private const int TrainingRows = 3000;

    [Theory]
    [InlineData("LightGbm", false)]
    [InlineData("FastTree", false)]
    [InlineData("FastForest", false)]
    [InlineData("LightGbm", true)]
    [InlineData(CategoricalLightGbm, false)]
    public void Score_TreeRegression_IsMLNetsTransformExactly(string trainer, bool hashedCategories)
    {
        // Categories of more distinct values than one-hot takes are hashed into 4,096 slots: the features are a sparse vector.
        var distinct = hashedCategories ? new Dictionary<string, long> { ["vendor_id"] = 1_000_000, ["payment_type"] = 1_000_000 } : null;
        var (ml, model) = Train(trainer, distinct: distinct);
        var trees = CompiledTrees.For(model, TaskKind.Regression);
        Assert.NotNull(trees);
        var splits = (ModelChain.Split(model)!.Value.Predictor.Model as LightGbmRegressionModelParameters)?
            .TrainedTreeEnsemble.Trees.Sum(t => t.CategoricalSplitFlags.Count(c => c)) ?? 0;
        Assert.Equal(trainer == CategoricalLightGbm, splits > 0);

        // 500 rows the model was not trained on, and rows whose numbers are missing (the featurization fills them in) or whose category is unknown.
        var lines = File.ReadLines(RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv")).Skip(1 + TrainingRows).Take(500)
            .Concat(["CMT,,1,,3.8,CRD,0", "VTS,1,2,600,,UNSEEN,0", "XYZ,5,0,0,0,,0"]).ToArray();
        var (expected, features, sparse) = Transformed(ml, model, trees, lines);
        // ML.NET's concatenation gives a sparse vector where most slots are 0 (a row of zeros and an unknown category;
        // every row once categories are hashed): the scorer fills those in before the trees read them.
        Assert.InRange(sparse, hashedCategories ? lines.Length : 1, lines.Length);
        var compiled = features.Select(f => trees.TryScore(f, out var score) ? score : float.NaN).ToArray();
        var served = Served(ml, model, trees, lines);

        Assert.Equal(expected, compiled);
        Assert.Equal(expected, served);
        Assert.True(expected.Distinct().Count() > 50, "the rows reach many leaves");
    }

    [Fact]
    public void TryScore_AMissingFeature_LeavesTheRowToMLNet()
    {
        var (_, model) = Train("LightGbm");
        var trees = CompiledTrees.For(model, TaskKind.Regression)!;
        var features = new float[trees.FeatureCount];

        Assert.True(trees.TryScore(features, out _));
        features[0] = float.NaN;
        Assert.False(trees.TryScore(features, out _));
        Assert.False(trees.TryScore(features.AsSpan(0, trees.FeatureCount - 1), out _));
    }

    [Theory]
    [InlineData("LightGbm")]
    [InlineData("FastTree")]
    [InlineData("FastForest")]
    public void Score_TreeBinary_IsMLNetsScoreProbabilityAndLabelExactly(string trainer)
    {
        var (ml, model) = Train(trainer, Cmt);
        var trees = CompiledTrees.For(model, TaskKind.Binary);
        Assert.NotNull(trees);
        Assert.NotNull(trees.Calibrator);

        var lines = File.ReadLines(RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv")).Skip(1 + TrainingRows).Take(500).ToArray();
        var file = Path.Combine(Path.GetTempPath(), $"compiled-trees-binary-{Guid.NewGuid():N}.csv");
        // The loader reads each column at its place in the schema's columns: the taxi file's own lines.
        File.WriteAllLines(file, [string.Join(',', Taxi.Columns.Select(c => c.Name)), .. lines]);
        float[] scores, probabilities;
        bool[] labels;
        try
        {
            var scored = model.Transform(FeaturePipeline.Loader(ml, Cmt, withLabel: false).Load(file));
            scores = [.. scored.GetColumn<float>(ModelOutputs.ScoreColumn)];
            probabilities = [.. scored.GetColumn<float>(ModelOutputs.ProbabilityColumn)];
            labels = [.. scored.GetColumn<bool>(ModelOutputs.PredictedLabelColumn)];
        }
        finally
        {
            File.Delete(file);
        }

        var served = Served(ml, model, trees, lines, Cmt);

        Assert.Equal(scores, served.Select(p => p.Score!.Value));
        Assert.Equal(probabilities, served.Select(p => p.Probability!.Value));
        Assert.Equal(labels.Select(l => Cmt.Classes![l ? 1 : 0]), served.Select(p => p.Label));
        Assert.True(labels.Distinct().Count() == 2 && probabilities.Distinct().Count() > 50, "the rows reach both labels and many leaves");
    }

    /// <summary>
    /// A one-versus-all model divides its classes' calibrated probabilities by their sum (FastTree's and FastForest's,
    /// and LightGbm's below 50,000 rows); LightGbm's softmax model (above) takes the softmax of their raw scores; one
    /// trained without probabilities answers the raw scores as they are. Each answer is ML.NET's, float for float.
    /// </summary>
    [Theory]
    [InlineData("LightGbm", nameof(ClassFormula.ProbabilityNormalization))]
    [InlineData(SoftmaxLightGbm, nameof(ClassFormula.Softmax))]
    [InlineData("FastTree", nameof(ClassFormula.ProbabilityNormalization))]
    [InlineData("FastForest", nameof(ClassFormula.ProbabilityNormalization))]
    [InlineData(RawFastTree, nameof(ClassFormula.Raw))]
    public void Score_TreeMulticlass_IsMLNetsScoresAndClassExactly(string trainer, string formula)
    {
        var (ml, model) = Train(trainer, Payment);
        var trees = CompiledTrees.For(model, TaskKind.Multiclass);
        Assert.NotNull(trees);
        Assert.Equal(Payment.Classes!.Count, trees.ClassCount);
        Assert.Equal(formula, trees.Formula.ToString());

        // 500 rows the model was not trained on, and one whose numbers are missing (left to ML.NET).
        var lines = File.ReadLines(RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv")).Skip(1 + TrainingRows).Take(500)
            .Append("CMT,,1,,3.8,CRD,").ToArray();
        var file = Path.Combine(Path.GetTempPath(), $"compiled-trees-multiclass-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(file, [string.Join(',', Taxi.Columns.Select(c => c.Name)), .. lines]);
        float[][] scores;
        string[] classes;
        IReadOnlyList<string> slots;
        try
        {
            var scored = model.Transform(FeaturePipeline.Loader(ml, Payment, withLabel: false).Load(file));
            scores = [.. scored.GetColumn<float[]>(ModelOutputs.ScoreColumn)];
            classes = [.. scored.GetColumn<string>(FeaturePipeline.PredictedClassColumn)];
            slots = ModelOutputs.Read(Payment, scored.Schema).Classes;
        }
        finally
        {
            File.Delete(file);
        }

        var served = Served(ml, model, trees, lines, Payment);

        Assert.Equal(classes, served.Select(p => p.Label));
        for (var row = 0; row < lines.Length; row++)
        {
            Assert.Equal(scores[row], slots.Select(c => served[row].Probabilities![c]));
        }
        Assert.True(classes.Distinct().Count() >= 2 && scores.Select(s => s[0]).Distinct().Count() > 50, "the rows reach several classes and many leaves");
    }

    [Fact]
    public void For_ALinearModelOrABlend_IsNull()
    {
        var (_, linear) = Train("Sdca");
        Assert.Null(CompiledTrees.For(linear, TaskKind.Regression));

        var (_, blend) = Train(Blend.Name);
        Assert.Null(CompiledTrees.For(blend, TaskKind.Regression));

        var (_, multiclass) = Train("Sdca", Payment);
        Assert.Null(CompiledTrees.For(multiclass, TaskKind.Multiclass));
    }

    /// <summary>Where a column's cell is in a line of the taxi file.</summary>
    private static int Cell(string column) => Taxi.Columns.Select(c => c.Name).ToList().IndexOf(column);

    /// <summary>Whether a taxi ride is by the vendor CMT (the rest are VTS), from what else the row says: a binary task on real rows.</summary>
    private static readonly DatasetSchema Cmt = Taxi with
    {
        Task = TaskKind.Binary, Label = "vendor_id", Classes = ["VTS", "CMT"],
        Features = ["rate_code", "passenger_count", "trip_time_in_secs", "trip_distance", "payment_type"],
    };

    /// <summary>How a taxi ride is paid, from the ride: a multiclass task on real rows.</summary>
    private static readonly DatasetSchema Payment = Taxi with
    {
        Task = TaskKind.Multiclass, Label = "payment_type", Classes = ["CRD", "CSH", "DIS", "NOC"],
        Features = ["vendor_id", "rate_code", "passenger_count", "trip_time_in_secs", "trip_distance", "fare_amount"],
    };

    /// <summary>
    /// LightGbm splitting on the one-hot categories as categories, as it chooses to on more than 50,000 rows (ML.NET's
    /// <c>UseCategoricalSplit</c> left unset): asked for here on fewer.
    /// </summary>
    private const string CategoricalLightGbm = "LightGbm, categorical splits";

    /// <summary>The one-versus-all trainer over FastTree, asked for raw scores rather than probabilities (no trainer of the catalog is).</summary>
    private const string RawFastTree = "FastTree, one-versus-all without probabilities";

    /// <summary>LightGbm's multiclass model with the softmax objective, as it chooses on 50,000 rows or more: asked for here on fewer.</summary>
    private const string SoftmaxLightGbm = "LightGbm, softmax";

    private static (MLContext Ml, ITransformer Model) Train(string trainer, DatasetSchema? schema = null, IReadOnlyDictionary<string, long>? distinct = null)
    {
        schema ??= Taxi;
        var ml = FeaturePipeline.Context(7);
        var file = Path.Combine(Path.GetTempPath(), $"compiled-trees-{Guid.NewGuid():N}.csv");
        File.WriteAllText(file, TestData.TaxiSlice(TrainingRows));
        try
        {
            var data = ml.Data.Cache(FeaturePipeline.Loader(ml, schema).Load(file));
            var candidate = new CandidateSpec(trainer, trainer == "FastForest" || trainer == "Sdca" || trainer == Blend.Name
                ? new Dictionary<string, double>()
                : new Dictionary<string, double> { ["numberOfLeaves"] = 31, [TrainerCatalog.Iterations] = 100 });
            // Trainers set up as the catalog does not: after the pipeline's featurization, fit as a served model is.
            IEstimator<ITransformer>? special = trainer switch
            {
                SoftmaxLightGbm => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
                {
                    LabelColumnName = FeaturePipeline.LabelColumn, FeatureColumnName = FeaturePipeline.FeaturesColumn, UseSoftmax = true,
                    NumberOfLeaves = 31, NumberOfIterations = 100, Seed = 7, Deterministic = true, NumberOfThreads = 1, Silent = true,
                }),
                RawFastTree => ml.MulticlassClassification.Trainers.OneVersusAll(
                    ml.BinaryClassification.Trainers.FastTree(FeaturePipeline.LabelColumn, FeaturePipeline.FeaturesColumn, numberOfLeaves: 31, numberOfTrees: 100),
                    FeaturePipeline.LabelColumn, useProbabilities: false),
                CategoricalLightGbm => ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
                {
                    LabelColumnName = FeaturePipeline.LabelColumn, FeatureColumnName = FeaturePipeline.FeaturesColumn, UseCategoricalSplit = true,
                    NumberOfLeaves = 31, NumberOfIterations = 100, Seed = 7, Deterministic = true, NumberOfThreads = 1, Silent = true,
                }),
                _ => null,
            };
            if (special is null) return (ml, ModelTrainer.Fit(ml, schema, distinct, candidate, 7, data).Model);
            var estimator = FeaturePipeline.Featurize(ml, schema, distinct, normalize: false).Append(special);
            return (ml, ModelTrainer.FitAsServed(ml, schema, estimator, FeaturePipeline.FitLabel(ml, schema, data).Transform(data)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>ML.NET's scores of the rows, the feature vectors the trees read, and how many of those were sparse.</summary>
    private static (float[] Scores, float[][] Features, int Sparse) Transformed(MLContext ml, ITransformer model, CompiledTrees trees, string[] lines)
    {
        var file = Path.Combine(Path.GetTempPath(), $"compiled-trees-test-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(file, [string.Join(',', Taxi.Features), .. lines.Select(l => string.Join(',', l.Split(',').Take(Taxi.Features.Count)))]);
        try
        {
            var data = FeaturePipeline.Loader(ml, Taxi, withLabel: false).Load(file);
            var featurized = trees.Featurization.Transform(data);
            var features = new List<float[]>();
            var sparse = 0;
            using (var cursor = featurized.GetRowCursor([featurized.Schema[trees.FeatureColumn]]))
            {
                var getter = cursor.GetGetter<VBuffer<float>>(featurized.Schema[trees.FeatureColumn]);
                VBuffer<float> vector = default;
                while (cursor.MoveNext())
                {
                    getter(ref vector);
                    if (!vector.IsDense) sparse++;
                    features.Add(vector.DenseValues().ToArray());
                }
            }
            return ([.. model.Transform(data).GetColumn<float>(ModelOutputs.ScoreColumn)], [.. features], sparse);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The rows as serving reads them from JSON, scored by a scorer with the compiled trees.</summary>
    private static float[] Served(MLContext ml, ITransformer model, CompiledTrees trees, string[] lines) =>
        [.. Served(ml, model, trees, lines, Taxi).Select(p => p.Score!.Value)];

    private static RowPrediction[] Served(MLContext ml, ITransformer model, CompiledTrees trees, string[] lines, DatasetSchema schema)
    {
        var inputSchema = FeaturePipeline.Loader(ml, schema, withLabel: false).GetOutputSchema();
        var input = new PredictionInput(schema, inputSchema, FeaturePipeline.KnownCategories(schema, model.GetOutputSchema(inputSchema)));
        var rows = lines.Select(l =>
        {
            var cells = l.Split(',');
            var fields = schema.Features.Select(f => (f, cells[Cell(f)])).Where(p => p.Item2.Length > 0)
                .Select(p => $"\"{p.f}\":{(schema.Column(p.f).Kind == ColumnKind.Numeric ? double.Parse(p.Item2, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture) : JsonSerializer.Serialize(p.Item2))}");
            return JsonDocument.Parse("{" + string.Join(',', fields) + "}").RootElement;
        }).ToArray();
        var read = input.Read(rows);
        var scorer = new RowScorer(model, inputSchema, ModelOutputs.Read(schema, model.GetOutputSchema(inputSchema)), input.Kinds, trees);
        return [.. Enumerable.Range(0, read.Count).Select(r => scorer.Score(read, r))];
    }
}
