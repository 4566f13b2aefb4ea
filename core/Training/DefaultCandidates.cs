using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// The candidates a run trains when the spec names none: boosted trees with more leaves and rounds than the trainers'
/// own defaults (LightGbm with two leaf counts, FastTree), a random forest (FastForest), and a linear model (Sdca) where it
/// has a chance: small data, or text. Each candidate's work is fixed (rounds × rows), so a run's training time grows
/// linearly with the rows and is bounded by the largest accepted file; the README lists what each data set took.
/// </summary>
public static class DefaultCandidates
{
    /// <summary>Up to this many rows the linear model is tried beside the trees.</summary>
    public const long SmallData = 20_000;

    /// <summary>Below this many training rows the trees may make leaves of fewer rows (the trainers' 20 would leave little to split).</summary>
    public const long TinyData = 2_000;

    public static List<TrainerGrid> For(TaskKind task, long rows, bool hasText)
    {
        var minLeaf = rows < TinyData ? 5.0 : 20.0;
        var grids = new List<TrainerGrid>
        {
            Grid("LightGbm", ("numberOfLeaves", [31, 63]), ("numberOfIterations", [400]), ("learningRate", [0.05]), ("minimumExampleCountPerLeaf", [minLeaf])),
            Grid("FastTree", ("numberOfLeaves", [31]), ("numberOfIterations", [300]), ("learningRate", [0.1]), ("minimumExampleCountPerLeaf", [minLeaf])),
            Grid("FastForest", ("numberOfLeaves", [63]), ("numberOfIterations", [100]), ("minimumExampleCountPerLeaf", [Math.Min(minLeaf, 10)])),
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
