using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// The <c>Blend</c> candidate: the default single candidates of a small data set (<see cref="DefaultCandidates.Singles"/>),
/// each with its own featurization, fitted on the same rows, and the mean of their answers: the mean score of a
/// regression, and for a binary task the mean probability of the positive class (every member is calibrated), its log-odds
/// as the score and the label at one half. Averaging models that err differently (boosted trees, a forest, a linear model)
/// lowers the variance that small data gives each of them. It is one ML.NET chain of standard transformers, saved and
/// loaded as any model: each member's chain, a copy of its answer, and ML.NET's expression transform for the mean. A
/// multiclass blend would average vectors, which the expression transform cannot (one vector input at most), so a
/// multiclass task has no blend.
/// </summary>
public static class Blend
{
    /// <summary>The trainer name of the blend, as runs, manifests and specs spell it.</summary>
    public const string Name = "Blend";

    /// <summary>The column each member's answer is copied to before the next member runs: <c>blend.{index}</c>.</summary>
    public static string MemberColumn(int index) => string.Create(CultureInfo.InvariantCulture, $"blend.{index}");

    /// <summary>The copy of the data's <paramref name="index"/>th feature column that the members' outputs cannot replace: <c>blend.input.{index}</c>.</summary>
    private static string KeptColumn(int index) => string.Create(CultureInfo.InvariantCulture, $"blend.input.{index}");

    /// <summary>
    /// Whether a member's chain may write a column of this name: the features (<see cref="FeaturePipeline.FeaturesColumn"/>),
    /// the featurization's columns (<c>f_…</c>, and the <c>__date…</c> of its date parts) and the trainer's outputs. A data
    /// column so named (a binary file with a <c>PredictedLabel</c> or <c>Features</c> column) would otherwise reach the
    /// next member as the earlier member's output: a boolean where it featurizes a category, or that member's answer.
    /// </summary>
    private static bool MemberMayWrite(string column) =>
        column is FeaturePipeline.FeaturesColumn or FeaturePipeline.PredictedClassColumn
            or ModelOutputs.ScoreColumn or ModelOutputs.PredictedLabelColumn or ModelOutputs.ProbabilityColumn
        || column.StartsWith(FeaturePipeline.FeatureColumn(""), StringComparison.Ordinal)
        || column.StartsWith(DateFeatures.InputColumn, StringComparison.Ordinal);

    /// <summary>The most input columns ML.NET's expression transform takes.</summary>
    private const int ExpressionInputs = 5;

    /// <summary>Whether a task can be blended.</summary>
    public static bool Supports(TaskKind task) => task is TaskKind.Regression or TaskKind.Binary;

    /// <summary>Why a task that is not <see cref="Supports">supported</see> has no blend, naming the task as the spec spells it.</summary>
    public static string Refusal(string task) => $"{Name} averages regression scores and binary probabilities; a {task} task cannot be blended";

    /// <summary>The single candidates a blend averages: the small-data defaults without text.</summary>
    public static IReadOnlyList<CandidateSpec> Members() =>
        TrainerCatalog.Candidates(new ModelSpec(), DefaultCandidates.Singles(rows: 0, hasText: false));

    /// <summary>Every member's featurization and trainer, and the mean of their answers in the task's output columns.</summary>
    public static IEstimator<ITransformer> Estimator(MLContext ml, DatasetSchema schema, IReadOnlyDictionary<string, long>? distinct, int seed, long rows, long? runRows = null)
    {
        if (!Supports(schema.Task))
        {
            throw new BadRequestException(Refusal(SpecReader.EnumNames(typeof(TaskKind))[(int)schema.Task]) + ".");
        }
        var answer = schema.Task == TaskKind.Regression ? ModelOutputs.ScoreColumn : ModelOutputs.ProbabilityColumn;
        var members = Members();
        // One flat chain (EstimatorChain.Append; appending to an IEstimator nests a chain a level per step).
        var chain = new EstimatorChain<ITransformer>();
        // Every member reads the data's own columns, but a member's outputs replace columns of the same name for the rest
        // of the chain: a feature named like one is kept aside before the first member and put back before each next one.
        var kept = schema.Features.Where(MemberMayWrite).Select((name, i) => (Name: name, Copy: KeptColumn(i))).ToList();
        foreach (var (name, copy) in kept) chain = chain.Append<ITransformer>(ml.Transforms.CopyColumns(copy, name));
        for (var i = 0; i < members.Count; i++)
        {
            if (i > 0)
            {
                foreach (var (name, copy) in kept) chain = chain.Append<ITransformer>(ml.Transforms.CopyColumns(name, copy));
            }
            chain = chain.Append(TrainerCatalog.Estimator(ml, schema, distinct, members[i], seed, rows, runRows))
                .Append<ITransformer>(ml.Transforms.CopyColumns(MemberColumn(i), answer));
        }
        // The expression transform takes at most five inputs: the members' answers are summed four at a time onto a running sum.
        string? total = null;
        for (var start = 0; start < members.Count; start += ExpressionInputs - 1)
        {
            var inputs = Enumerable.Range(start, Math.Min(ExpressionInputs - 1, members.Count - start)).Select(MemberColumn).ToList();
            if (total is not null) inputs.Insert(0, total);
            var names = Enumerable.Range(0, inputs.Count).Select(i => $"x{i}").ToList();
            var last = start + ExpressionInputs - 1 >= members.Count;
            var sum = string.Join(" + ", names);
            var expression = last
                ? string.Create(CultureInfo.InvariantCulture, $"({string.Join(", ", names)}) => ({sum}) / {members.Count}")
                : $"({string.Join(", ", names)}) => {sum}";
            var output = last ? answer : string.Create(CultureInfo.InvariantCulture, $"blend.sum{start}");
            chain = chain.Append<ITransformer>(ml.Transforms.Expression(output, expression, [.. inputs]));
            total = output;
        }
        if (schema.Task == TaskKind.Binary)
        {
            // The log-odds of the mean probability, bounded where the probability is 0 or 1, as the score; the label at one half.
            chain = chain
                .Append<ITransformer>(ml.Transforms.Expression(ModelOutputs.ScoreColumn, "(p) => log(max(p, 0.000001) / max(1 - p, 0.000001))", answer))
                .Append<ITransformer>(ml.Transforms.Expression(ModelOutputs.PredictedLabelColumn, "(p) => p > 0.5", answer));
        }
        return chain;
    }
}
