using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// The candidates a run trains when the spec names none. Boosted trees: LightGbm as histogram gradient boosting is usually
/// set up (31 leaves, 100 rounds at 0.1, at least 20 rows a leaf), and with 400 rounds at half the rate: 31 leaves with
/// each round on 80% of the rows and features, and 63 leaves; FastTree with 31 leaves and 300 rounds. A random forest: FastForest with 63 leaves and 200 trees. A linear model
/// (Sdca) where it has a chance: small data, or text. Each candidate's work is fixed (rounds × rows), so a run's training
/// time grows linearly with the rows; the README lists what each shipped data set took.
/// </summary>
public static class DefaultCandidates
{
    /// <summary>Up to this many rows the linear model is tried beside the trees.</summary>
    public const long SmallData = 20_000;

    /// <summary>
    /// Up to this many rows the blend is tried: data small enough to be cross-validated, where one model's variance is
    /// largest and a fit takes seconds (the blend trains as much as the singles together).
    /// </summary>
    public const long BlendRows = TrainingOptions.DefaultCrossValidationMaxRows;

    /// <summary>
    /// The L2 regularization of a regression's second linear candidate: ML.NET's own default for Sdca regression on more
    /// than 10,000 rows, the weakest it uses. Its default on fewer rows (0.001, and 0.01 under 200) shrinks the weight of a
    /// feature whose range an outlier stretches (statsmodels' engel: income's maximum 4,958, its median 884), so where it
    /// is stronger than this, both are tried and cross-validation chooses.
    /// </summary>
    public const double WeakL2 = 1e-4;

    /// <summary>
    /// The default candidates for a data set of <paramref name="rows"/> rows: <see cref="Singles"/>; for a regression whose
    /// rows make ML.NET's default L2 stronger than <see cref="WeakL2"/>, a second linear model at that L2; and on data of at
    /// most <see cref="BlendRows"/> rows without text, for a regression or binary task, the <see cref="Blend"/> of the
    /// small-data singles.
    /// </summary>
    public static List<TrainerGrid> For(TaskKind task, long rows, bool hasText)
    {
        var grids = Singles(rows, hasText);
        if (task == TaskKind.Regression && grids.Any(g => TrainerCatalog.IsLinear(g.Name)) && TrainerCatalog.SdcaRegressionL2(rows) > WeakL2)
        {
            grids.Add(Grid("Sdca", (TrainerCatalog.L2Regularization, [WeakL2])));
        }
        if (rows <= BlendRows && !hasText && Blend.Supports(task)) grids.Add(new TrainerGrid { Name = Blend.Name });
        return grids;
    }

    /// <summary>The single models: the boosted trees and the forest, and the linear model on small data or text.</summary>
    public static List<TrainerGrid> Singles(long rows, bool hasText)
    {
        var grids = new List<TrainerGrid>
        {
            Grid("LightGbm", (TrainerCatalog.Leaves, [31]), (TrainerCatalog.Iterations, [100]), (TrainerCatalog.LearningRate, [0.1]), (TrainerCatalog.MinimumExamplesPerLeaf, [20])),
            Grid("LightGbm", (TrainerCatalog.Leaves, [31]), (TrainerCatalog.Iterations, [400]), (TrainerCatalog.LearningRate, [0.05]), (TrainerCatalog.MinimumExamplesPerLeaf, [20]),
                (TrainerCatalog.FeatureFraction, [0.8]), (TrainerCatalog.SubsampleFraction, [0.8])),
            Grid("LightGbm", (TrainerCatalog.Leaves, [63]), (TrainerCatalog.Iterations, [400]), (TrainerCatalog.LearningRate, [0.05]), (TrainerCatalog.MinimumExamplesPerLeaf, [20])),
            Grid("FastTree", (TrainerCatalog.Leaves, [31]), (TrainerCatalog.Iterations, [300]), (TrainerCatalog.LearningRate, [0.1]), (TrainerCatalog.MinimumExamplesPerLeaf, [20])),
            Grid("FastForest", (TrainerCatalog.Leaves, [63]), (TrainerCatalog.Iterations, [200]), (TrainerCatalog.MinimumExamplesPerLeaf, [5])),
        };
        if (rows <= SmallData || hasText) grids.Add(new TrainerGrid { Name = "Sdca" });
        return grids;
    }

    private static TrainerGrid Grid(string name, params (string Parameter, double[] Values)[] grid) => new()
    {
        Name = name,
        Grid = grid.ToDictionary(p => p.Parameter, p => p.Values.ToList()),
    };
}
