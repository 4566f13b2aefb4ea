using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Serving;

/// <summary>What a loaded version answers per row, read once from its output schema: the task's output columns and its class names.</summary>
internal sealed class ModelOutputs
{
    public const string ScoreColumn = "Score";
    public const string PredictedLabelColumn = "PredictedLabel";
    public const string ProbabilityColumn = "Probability";

    private ModelOutputs(TaskKind task, IReadOnlyList<string> classes, bool hasProbability, bool classesAreScoreSlots = false)
    {
        Task = task;
        Classes = classes;
        HasProbability = hasProbability;
        ClassesAreScoreSlots = classesAreScoreSlots;
        Columns = task switch
        {
            TaskKind.Regression => [ScoreColumn],
            TaskKind.Binary => hasProbability ? [ScoreColumn, PredictedLabelColumn, ProbabilityColumn] : [ScoreColumn, PredictedLabelColumn],
            _ => [ScoreColumn, FeaturePipeline.PredictedClassColumn],
        };
    }

    public TaskKind Task { get; }

    /// <summary>Binary: the two classes, the positive one second. Multiclass: the classes in the order of the score vector.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>
    /// Multiclass: whether <see cref="Classes"/> are the names of the score vector's slots, the values the predicted key
    /// maps back to: then the class of the highest score is the predicted class.
    /// </summary>
    public bool ClassesAreScoreSlots { get; }

    /// <summary>Binary: whether the trainer is calibrated (answers a probability).</summary>
    public bool HasProbability { get; }

    /// <summary>The output columns the scorer computes; nothing else of the pipeline runs.</summary>
    public IReadOnlyList<string> Columns { get; }

    public static ModelOutputs Read(DatasetSchema schema, DataViewSchema output)
    {
        switch (schema.Task)
        {
            case TaskKind.Regression:
                return new ModelOutputs(schema.Task, [], false);
            case TaskKind.Binary:
                var classes = schema.Classes is { Count: 2 } two ? two : throw new InvalidDataException("A binary model's schema must name its two classes.");
                return new ModelOutputs(schema.Task, classes, output.GetColumnOrNull(ProbabilityColumn) is not null);
            default:
                var slots = ScoreSlotNames(output);
                return new ModelOutputs(schema.Task, slots ?? schema.Classes ?? [], false, slots is not null);
        }
    }

    /// <summary>The class named <paramref name="value"/>, as one of <see cref="Classes"/> when it is one (no new string per answer).</summary>
    public string ClassName(ReadOnlySpan<char> value)
    {
        foreach (var name in Classes)
        {
            if (value.SequenceEqual(name)) return name;
        }
        return value.ToString();
    }

    /// <summary>The names of the score vector's slots (the label's key values), or null when it has none, or an empty one.</summary>
    private static IReadOnlyList<string>? ScoreSlotNames(DataViewSchema output)
    {
        var column = output[ScoreColumn];
        if (!column.HasSlotNames()) return null;
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        var list = names.DenseValues().Select(n => n.ToString()).ToList();
        return list.All(n => n.Length > 0) ? list : null;
    }
}
