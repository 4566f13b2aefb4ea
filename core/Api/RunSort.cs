using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Api;

using static ApiResults;

/// <summary>The metric a listing of experiment runs is sorted by: a metric's name in any case, one the model's task reports.</summary>
public static class RunSort
{
    /// <summary>The metric's own spelling (e.g. <c>logloss</c> → <c>logLoss</c>); a 400 naming the metrics that fit otherwise.</summary>
    public static string? Resolve(string? requested, TaskKind? task)
    {
        if (requested is null) return null;
        var all = Enum.GetValues<TaskKind>().SelectMany(Metrics.For).Distinct(StringComparer.Ordinal).ToList();
        var fit = task is { } t ? Metrics.For(t) : all;
        var name = all.FirstOrDefault(m => m.Equals(requested.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new BadRequestException($"Cannot sort by '{ApiResults.Truncate(requested)}': it is not a metric.", Field("sort", $"one of {string.Join(", ", fit)}"));
        if (!fit.Contains(name))
        {
            throw new BadRequestException($"Cannot sort by '{name}': a {task.ToString()!.ToLowerInvariant()} model's runs do not report it.",
                Field("sort", $"one of {string.Join(", ", fit)}"));
        }
        return name;
    }

}
