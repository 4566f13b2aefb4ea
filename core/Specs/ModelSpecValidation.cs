using Serverless.Core.Api;
using Serverless.Core.Training;

namespace Serverless.Core.Specs;

/// <summary>Checks a model spec before it is stored, naming every bad field.</summary>
public static class ModelSpecValidation
{
    public static void Validate(ModelSpec spec)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string problem) => errors[field] = [.. errors.GetValueOrDefault(field, []), problem];

        var metrics = Enum.GetValues<TaskKind>().SelectMany(Metrics.For).ToHashSet(StringComparer.Ordinal);
        if (spec.Metric is { } metric)
        {
            if (!metrics.Contains(metric)) Add("metric", $"unknown metric '{metric}'; one of {string.Join(", ", metrics)}");
            else if (spec.Task is { } task && !Metrics.For(task).Contains(metric)) Add("metric", $"'{metric}' is not reported for a {task} task");
        }
        foreach (var (name, _) in spec.Minimum ?? [])
        {
            if (!metrics.Contains(name)) Add($"minimum.{name}", $"unknown metric; one of {string.Join(", ", metrics)}");
        }
        if (spec.Label is { Length: 0 }) Add("label", "must not be empty");
        if (spec.Comment is { } comment && Datasets.CommentCharacter.Problem(comment) is { } commentProblem) Add("comment", commentProblem);
        foreach (var (column, range) in spec.Ranges ?? [])
        {
            if (range is null || (range.Min is null && range.Max is null)) Add($"ranges.{column}", "give min, max or both");
            else if (range.Min > range.Max) Add($"ranges.{column}", $"min {range.Min} is above max {range.Max}");
        }
        if (spec.ChampionTolerance is < 0 or > 1) Add("championTolerance", "a fraction from 0 to 1");
        if (spec.ApprovalTimeout is { } timeout && timeout <= TimeSpan.Zero) Add("approvalTimeout", "must be positive");
        if (spec.Seed is < 0) Add("seed", "must not be negative");
        if (spec.Trainers is { Count: 0 }) Add("trainers", "name at least one trainer, or leave the field out for the defaults");
        for (var i = 0; i < (spec.Trainers?.Count ?? 0); i++)
        {
            var trainer = spec.Trainers![i];
            if (string.IsNullOrWhiteSpace(trainer.Name)) Add($"trainers[{i}].name", "required");
            foreach (var (parameter, values) in trainer.Grid ?? [])
            {
                if (values is null || values.Count == 0) Add($"trainers[{i}].grid.{parameter}", "give at least one value");
                else if (values.Any(v => double.IsNaN(v) || double.IsInfinity(v))) Add($"trainers[{i}].grid.{parameter}", "values must be finite numbers");
            }
        }
        var sensitive = new HashSet<string>(spec.Sensitive ?? [], StringComparer.Ordinal);
        if (spec.Label is { } label && sensitive.Contains(label)) Add("sensitive", $"the label '{label}' cannot also be sensitive");
        if (spec.Drift is { } drift) Monitoring.DriftMethods.Validate(drift, Add);
        if (errors.Count > 0)
        {
            throw new BadRequestException($"The model spec has {errors.Count} problem(s): {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"))}.", errors);
        }
    }
}
