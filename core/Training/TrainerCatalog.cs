using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// The trainers a spec may name, their parameters, and the default candidates per task. Parameter names are the same
/// for every task: numberOfLeaves, numberOfIterations (trees), learningRate, minimumExampleCountPerLeaf for the tree
/// trainers (FastForest takes no learningRate), and for LightGbm featureFraction and subsampleFraction (shares of the
/// features and rows each round sees); numberOfThreads for the tree trainers (default 1); l1Regularization, l2Regularization, maximumNumberOfIterations for Sdca.
/// <see cref="Blend"/> takes none: it is the mean of the small-data default candidates.
/// </summary>
public static class TrainerCatalog
{
    private static readonly Dictionary<string, string[]> Parameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["LightGbm"] = [Leaves, Iterations, LearningRate, MinimumExamplesPerLeaf, FeatureFraction, SubsampleFraction, Threads],
        ["FastTree"] = [Leaves, Iterations, LearningRate, MinimumExamplesPerLeaf, Threads],
        ["FastForest"] = [Leaves, Iterations, MinimumExamplesPerLeaf, Threads],
        ["Sdca"] = [L1Regularization, L2Regularization, MaximumIterations],
        [Blend.Name] = [],
    };

    public static IReadOnlyCollection<string> Names => Parameters.Keys;

    /// <summary>Threads a tree trainer may use (default 1). More is faster, but the same data and seed may then give another model.</summary>
    public const string Threads = "numberOfThreads";
    /// <summary>The parameter of the rounds (trees) a tree trainer builds.</summary>
    public const string Iterations = "numberOfIterations";
    public const string Leaves = "numberOfLeaves";
    public const string LearningRate = "learningRate";
    public const string MinimumExamplesPerLeaf = "minimumExampleCountPerLeaf";
    public const string FeatureFraction = "featureFraction";
    public const string SubsampleFraction = "subsampleFraction";
    public const string L1Regularization = "l1Regularization";
    public const string L2Regularization = "l2Regularization";
    public const string MaximumIterations = "maximumNumberOfIterations";

    /// <summary>
    /// Whether training the candidate twice on the same rows with the same seed gives the same model: true for every
    /// trainer on one thread (the default); a candidate given more threads sums in an order the scheduler decides.
    /// </summary>
    public static bool IsDeterministic(CandidateSpec candidate) =>
        !candidate.Parameters.TryGetValue(Threads, out var threads) || threads <= 1;

    /// <summary>The most candidates a spec's grids may make.</summary>
    public const int MaxCandidates = 64;

    /// <summary>
    /// The values each grid parameter may take, as ML.NET and LightGBM accept them, bounded where a value beyond would
    /// only make a fit run without end (rounds, passes, threads). A value outside is refused when the spec is read, not
    /// when the run fails on it.
    /// </summary>
    private static readonly Dictionary<string, ParameterRange> Ranges = new(StringComparer.Ordinal)
    {
        [Leaves] = new(2, 131_072, Whole: true),
        [Iterations] = new(1, 100_000, Whole: true),
        [LearningRate] = new(0, 1, Whole: false, AboveMin: true),
        [MinimumExamplesPerLeaf] = new(1, 1_000_000, Whole: true),
        [FeatureFraction] = new(0, 1, Whole: false, AboveMin: true),
        [SubsampleFraction] = new(0, 1, Whole: false, AboveMin: true),
        [Threads] = new(1, 256, Whole: true),
        [L1Regularization] = new(0, 1e6, Whole: false),
        [L2Regularization] = new(0, 1e6, Whole: false),
        [MaximumIterations] = new(1, 1_000_000, Whole: true),
    };

    private sealed record ParameterRange(double Min, double Max, bool Whole, bool AboveMin = false)
    {
        public bool Contains(double value) =>
            double.IsFinite(value) && (AboveMin ? value > Min : value >= Min) && value <= Max && (!Whole || Math.Floor(value) == value);

        public override string ToString() =>
            (Whole ? "a whole number" : "a number") + (AboveMin ? $" above {Min:G} and up to {Max:N0}" : $" from {Min:G} to {Max:N0}");
    }

    /// <summary>What is wrong with <paramref name="value"/> for a grid parameter (the values it may take), or null when it fits.</summary>
    public static string? ValueProblem(string parameter, double value) =>
        Ranges.TryGetValue(parameter, out var range) && !range.Contains(value) ? $"{value:G} is out of range; {parameter} takes {range}" : null;

    /// <summary>The parameters a trainer takes (its name spelt as in <see cref="Names"/>), or null for an unknown trainer.</summary>
    public static IReadOnlyList<string>? ParametersOf(string trainer) =>
        Parameters.Keys.FirstOrDefault(k => k.Equals(trainer, StringComparison.Ordinal)) is { } known ? Parameters[known] : null;

    /// <summary>Linear trainers get normalized features.</summary>
    public static bool IsLinear(string trainer) => trainer.Equals("Sdca", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The spec's trainers × parameter grids, or <paramref name="defaults"/> when it names none (the plan passes
    /// <see cref="DefaultCandidates.For"/>), or else one candidate per trainer with the trainers' own defaults.
    /// </summary>
    public static IReadOnlyList<CandidateSpec> Candidates(ModelSpec spec, IReadOnlyList<TrainerGrid>? defaults = null)
    {
        var grids = spec.Trainers ?? defaults ?? [new() { Name = "LightGbm" }, new() { Name = "FastTree" }, new() { Name = "FastForest" }, new() { Name = "Sdca" }];
        var errors = new Dictionary<string, string[]>();
        var candidates = new List<CandidateSpec>();
        for (var i = 0; i < grids.Count; i++)
        {
            var grid = grids[i];
            var known = Parameters.Keys.FirstOrDefault(k => k.Equals(grid.Name, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                errors[$"trainers[{i}].name"] = [$"unknown trainer '{grid.Name}'; one of {string.Join(", ", Parameters.Keys)}"];
                continue;
            }
            var unknown = (grid.Grid ?? []).Keys.Where(p => !Parameters[known].Contains(p, StringComparer.Ordinal)).ToList();
            if (unknown.Count > 0)
            {
                errors[$"trainers[{i}].grid"] = [$"{known} takes no parameter {string.Join(", ", unknown)}; it takes {string.Join(", ", Parameters[known])}"];
                continue;
            }
            IEnumerable<Dictionary<string, double>> combos = [new()];
            foreach (var (name, values) in (grid.Grid ?? []).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                combos = combos.SelectMany(c => values.Select(v => new Dictionary<string, double>(c) { [name] = v }));
            }
            candidates.AddRange(combos.Select(c => new CandidateSpec(known, c)));
        }
        if (errors.Count > 0) throw new BadRequestException("The spec names trainers or parameters that do not exist.", errors);
        if (candidates.Count > MaxCandidates) throw new BadRequestException($"The spec's grids make {candidates.Count} candidates; the limit is {MaxCandidates}.", new Dictionary<string, string[]> { ["trainers"] = [$"at most {MaxCandidates} combinations"] });
        return candidates;
    }

    /// <summary>
    /// The whole estimator of a candidate, as trained and served: its featurization (normalized for a linear trainer) and
    /// trainer (<see cref="AppendTrainer"/>), or for a <see cref="Blend"/> every member's and the mean of their answers.
    /// <paramref name="rows"/>: the rows it is fit on (<see cref="SdcaPasses"/>; 0 when unknown, for a tree model);
    /// <paramref name="runRows"/>: the rows the run's winner is refit on (<see cref="SplitRefs.FitRows"/>), which set the
    /// regularization of every fit of a run alike (<see cref="SdcaRegressionL2"/>); null: <paramref name="rows"/>.
    /// </summary>
    public static IEstimator<ITransformer> Estimator(MLContext ml, DatasetSchema schema, IReadOnlyDictionary<string, long>? distinct, CandidateSpec candidate, int seed, long rows,
        long? runRows = null) =>
        candidate.Trainer == Blend.Name
            ? Blend.Estimator(ml, schema, distinct, seed, rows, runRows)
            : FeaturePipeline.Featurize(ml, schema, distinct, IsLinear(candidate.Trainer)).AppendTrainer(ml, schema.Task, FeaturePipeline.PreparedLabel(schema), candidate, seed, rows, runRows);

    /// <summary>Whether fitting the candidate needs its row count first: a linear model, alone or in a blend (<see cref="SdcaPasses"/>).</summary>
    public static bool NeedsRowCount(CandidateSpec candidate) => IsLinear(candidate.Trainer) || candidate.Trainer == Blend.Name;

    /// <summary>
    /// The most passes over the data Sdca makes when the spec does not set <c>maximumNumberOfIterations</c>. ML.NET's own
    /// default is three times 500,000 divided by the rows (187,500 passes over 8 rows), and a pass has a fixed cost
    /// whatever its rows: rows that do not converge took minutes a fit (8 rows: 82 s, when each pass read and shuffled
    /// the rows again; from the cache <see cref="AppendTrainer"/> puts before Sdca, about a quarter of that), and a
    /// run fits each candidate six times when it cross-validates. The cap binds under 150 rows only.
    /// </summary>
    public const int MaxSdcaPasses = 10_000;

    /// <summary>ML.NET's default number of Sdca passes over <paramref name="rows"/> rows on one thread (its <c>TuneDefaultMaxIterations</c>).</summary>
    private static long DefaultSdcaPasses(long rows) => Math.Max(2, Math.Max(1, 500_000 / rows) * 3);

    /// <summary>
    /// Sdca's number of passes over <paramref name="rows"/> rows when the spec sets none: <see cref="MaxSdcaPasses"/> where
    /// ML.NET's default would be more, else null (ML.NET's default).
    /// </summary>
    public static int? SdcaPasses(long rows) => rows > 0 && DefaultSdcaPasses(rows) > MaxSdcaPasses ? MaxSdcaPasses : null;

    /// <summary>
    /// Where the passes are capped (<see cref="SdcaPasses"/>), the L2 regularization ML.NET's classifiers would tune for
    /// themselves from their default passes (its <c>TuneDefaultL2</c>: 20 over half the passes times the rows), so that the
    /// cap changes the passes only: ML.NET tunes L2 from the passes it is given, and 1,000 passes over iris's 150 rows
    /// made it ten times larger. Null where nothing is capped. (Regression's default L2 depends on the rows alone.)
    /// </summary>
    public static float? SdcaClassifierL2(long rows) =>
        SdcaPasses(rows) is null ? null : Math.Max(1e-06f, 20f / (Math.Max(2, DefaultSdcaPasses(rows) / 2) * rows));

    /// <summary>
    /// The L2 regularization ML.NET's Sdca regression takes when none is given, for <paramref name="rows"/> rows (its
    /// regression <c>TuneDefaultL2</c>): 0.01 under 200 rows, 0.001 up to 10,000, 0.0001 above. A run sets it from the rows
    /// its winner is refit on for every fit, because ML.NET would set it from each fit's own rows: on 205 rows of train and
    /// validation the cross-validation folds (164 rows) were fit at 0.01 and the refit at 0.001, so the model served was
    /// not the one the folds had scored (statsmodels' engel: cv at 0.01, test rmse 201.49 at 0.001).
    /// </summary>
    public static float SdcaRegressionL2(long rows) => rows > 10_000 ? 1e-4f : rows < 200 ? 1e-2f : 1e-3f;

    /// <summary>
    /// The featurization followed by the candidate's trainer, and by a calibration where the trainer has none of its own,
    /// so that every classifier answers probabilities: a binary FastForest's score is mapped to a probability by Platt
    /// scaling fitted on the training rows (as ML.NET's FastTree and LightGbm calibrate themselves), and a multiclass
    /// FastForest's one-versus-all models are each calibrated so (their raw scores, normalized, are no probabilities:
    /// the log-loss of wine's three cultivars was 2.29 against 0.10 calibrated, at the same accuracy). The calibration
    /// comes after the predictor in the chain, so the predictor stays the chain's last <c>ISingleFeaturePredictionTransformer</c>
    /// (<see cref="ModelChain"/>).
    /// </summary>
    public static IEstimator<ITransformer> AppendTrainer(this IEstimator<ITransformer> featurization, MLContext ml, TaskKind task, string label, CandidateSpec candidate, int seed, long rows,
        long? runRows = null)
    {
        // Sdca passes over its rows many times (thousands of passes on small data): from a cache of the featurized rows,
        // not by reading and featurizing them again each pass, which also shuffles them on a thread of its own.
        var chain = (IsLinear(candidate.Trainer) ? featurization.AppendCacheCheckpoint(ml) : featurization).Append(Create(ml, task, label, candidate, seed, rows, runRows ?? rows));
        return task == TaskKind.Binary && candidate.Trainer == "FastForest"
            ? chain.Append(ml.BinaryClassification.Calibrators.Platt(label))
            : chain;
    }

    /// <summary>The trainer estimator of a candidate for a task.</summary>
    private static IEstimator<ITransformer> Create(MLContext ml, TaskKind task, string label, CandidateSpec candidate, int seed, long rows, long runRows)
    {
        var p = candidate.Parameters;
        int? Int(string name) => p.TryGetValue(name, out var v) ? (int)Math.Round(v) : null;
        double? Real(string name) => p.TryGetValue(name, out var v) ? v : null;
        const string features = FeaturePipeline.FeaturesColumn;

        switch (candidate.Trainer)
        {
            case "LightGbm":
                var leaves = Int(Leaves);
                var iterations = Int(Iterations) ?? 100;
                var rate = Real(LearningRate);
                var minLeaf = Int(MinimumExamplesPerLeaf);
                // Each round sees a share of the features and (re-drawn every round) of the rows, as in a random forest.
                var booster = new GradientBooster.Options();
                if (Real(FeatureFraction) is { } featureFraction) booster.FeatureFraction = featureFraction;
                if (Real(SubsampleFraction) is { } rowFraction)
                {
                    booster.SubsampleFraction = rowFraction;
                    booster.SubsampleFrequency = 1;
                }
                return task switch
                {
                    TaskKind.Regression => ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
                    {
                        LabelColumnName = label, FeatureColumnName = features, NumberOfLeaves = leaves, NumberOfIterations = iterations,
                        LearningRate = rate, MinimumExampleCountPerLeaf = minLeaf, Booster = booster, Seed = seed, Deterministic = true, NumberOfThreads = Int(Threads) ?? 1, Silent = true,
                    }),
                    TaskKind.Binary => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
                    {
                        LabelColumnName = label, FeatureColumnName = features, NumberOfLeaves = leaves, NumberOfIterations = iterations,
                        LearningRate = rate, MinimumExampleCountPerLeaf = minLeaf, Booster = booster, Seed = seed, Deterministic = true, NumberOfThreads = Int(Threads) ?? 1, Silent = true,
                    }),
                    _ => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
                    {
                        LabelColumnName = label, FeatureColumnName = features, NumberOfLeaves = leaves, NumberOfIterations = iterations,
                        LearningRate = rate, MinimumExampleCountPerLeaf = minLeaf, Booster = booster, Seed = seed, Deterministic = true, NumberOfThreads = Int(Threads) ?? 1, Silent = true,
                    }),
                };
            case "FastTree":
                return task switch
                {
                    TaskKind.Regression => ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
                    {
                        LabelColumnName = label, FeatureColumnName = features, NumberOfLeaves = Int(Leaves) ?? 20,
                        NumberOfTrees = Int(Iterations) ?? 100, LearningRate = Real(LearningRate) ?? 0.2,
                        MinimumExampleCountPerLeaf = Int(MinimumExamplesPerLeaf) ?? 10, Seed = seed, NumberOfThreads = Int(Threads) ?? 1,
                    }),
                    TaskKind.Binary => ml.BinaryClassification.Trainers.FastTree(FastTreeBinary(p, label, seed)),
                    _ => ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(FastTreeBinary(p, label, seed)), label),
                };
            case "FastForest":
                return task switch
                {
                    TaskKind.Regression => ml.Regression.Trainers.FastForest(new FastForestRegressionTrainer.Options
                    {
                        LabelColumnName = label, FeatureColumnName = features, NumberOfLeaves = Int(Leaves) ?? 20,
                        NumberOfTrees = Int(Iterations) ?? 100, MinimumExampleCountPerLeaf = Int(MinimumExamplesPerLeaf) ?? 10,
                        Seed = seed, NumberOfThreads = Int(Threads) ?? 1,
                    }),
                    TaskKind.Binary => ml.BinaryClassification.Trainers.FastForest(FastForestBinary(p, label, seed)),
                    _ => ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastForest(FastForestBinary(p, label, seed)), label),
                };
            case "Sdca":
                var l1 = (float?)Real(L1Regularization);
                var l2 = (float?)Real(L2Regularization);
                var max = Int(MaximumIterations);
                if (max is null)
                {
                    // Capped passes on small data, and for a classifier the L2 ML.NET would have tuned from its own passes.
                    max = SdcaPasses(rows);
                    if (task != TaskKind.Regression) l2 ??= SdcaClassifierL2(rows);
                }
                // Regression's default L2 steps with the rows (classifiers' hardly moves: 20 over passes times rows, the
                // passes about 1.5 million over the rows): set from the run's rows, the same for every fit of a run.
                if (task == TaskKind.Regression && rows > 0) l2 ??= SdcaRegressionL2(runRows);
                return task switch
                {
                    // The bias is learnt as a weight of a constant feature (BiasLearningRate 0, as ML.NET's classifiers
                    // have it): regression's default of 1 adds an unregularized bias step that diverges on plain data
                    // (y = 2x on 400 rows fit with an rmse of 5e8, or failed with non-finite weights).
                    TaskKind.Regression => ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options
                    {
                        LabelColumnName = label, FeatureColumnName = features, L1Regularization = l1, L2Regularization = l2, MaximumNumberOfIterations = max, NumberOfThreads = 1,
                        BiasLearningRate = 0,
                    }),
                    TaskKind.Binary => ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
                    {
                        LabelColumnName = label, FeatureColumnName = features, L1Regularization = l1, L2Regularization = l2, MaximumNumberOfIterations = max, NumberOfThreads = 1,
                    }),
                    _ => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
                    {
                        LabelColumnName = label, FeatureColumnName = features, L1Regularization = l1, L2Regularization = l2, MaximumNumberOfIterations = max, NumberOfThreads = 1,
                    }),
                };
            default:
                throw new BadRequestException($"Unknown trainer '{candidate.Trainer}'.");
        }
    }

    private static FastTreeBinaryTrainer.Options FastTreeBinary(IReadOnlyDictionary<string, double> p, string label, int seed) => new()
    {
        LabelColumnName = label,
        FeatureColumnName = FeaturePipeline.FeaturesColumn,
        NumberOfLeaves = p.TryGetValue(Leaves, out var l) ? (int)l : 20,
        NumberOfTrees = p.TryGetValue(Iterations, out var t) ? (int)t : 100,
        LearningRate = p.TryGetValue(LearningRate, out var r) ? r : 0.2,
        MinimumExampleCountPerLeaf = p.TryGetValue(MinimumExamplesPerLeaf, out var m) ? (int)m : 10,
        Seed = seed,
        NumberOfThreads = p.TryGetValue(Threads, out var n) ? (int)n : 1,
    };

    private static FastForestBinaryTrainer.Options FastForestBinary(IReadOnlyDictionary<string, double> p, string label, int seed) => new()
    {
        LabelColumnName = label,
        FeatureColumnName = FeaturePipeline.FeaturesColumn,
        NumberOfLeaves = p.TryGetValue(Leaves, out var l) ? (int)l : 20,
        NumberOfTrees = p.TryGetValue(Iterations, out var t) ? (int)t : 100,
        MinimumExampleCountPerLeaf = p.TryGetValue(MinimumExamplesPerLeaf, out var m) ? (int)m : 10,
        Seed = seed,
        NumberOfThreads = p.TryGetValue(Threads, out var n) ? (int)n : 1,
    };
}
