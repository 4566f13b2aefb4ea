using Serverless.Core.Datasets;
using Serverless.Core.Training;

namespace Serverless.Core.Specs;

/// <summary>
/// Checks a model spec before it counts, naming every bad field with the valid values: trainers and their grid
/// parameters against <see cref="TrainerCatalog"/>, metric names against the task's metrics, column names against the
/// latest dataset version (when the model has one), and the drift settings through <see cref="DriftSpecValidation"/>.
/// </summary>
public static class ModelSpecValidation
{
    /// <summary>
    /// Reads and checks a spec in one step (the shape first, then the values); throws <see cref="InvalidSpecException"/>.
    /// <paramref name="latestLabelValues"/> is how many distinct values the latest data's label holds (its profile's), when known.
    /// </summary>
    public static ModelSpec Parse(ReadOnlyMemory<byte> json, DatasetSchema? latest, long? latestLabelValues = null)
    {
        var problems = new SpecProblems();
        var spec = SpecReader.Read(json, problems);
        if (spec is not null)
        {
            Validate(spec, latest, problems);
            CheckBinaryLabel(spec, latest, latestLabelValues, problems);
        }
        problems.ThrowIfAny();
        return spec!;
    }

    /// <summary>Checks a spec; throws <see cref="InvalidSpecException"/> naming every problem.</summary>
    public static void Validate(ModelSpec spec, DatasetSchema? latest = null)
    {
        var problems = new SpecProblems();
        Validate(spec, latest, problems);
        problems.ThrowIfAny();
    }

    /// <summary>Adds every problem of <paramref name="spec"/> to <paramref name="problems"/>.</summary>
    public static void Validate(ModelSpec spec, DatasetSchema? latest, SpecProblems problems)
    {
        CheckMetrics(spec, latest, problems);
        CheckColumns(spec, latest, problems);
        CheckTrainers(spec, latest, problems);
        foreach (var (column, range) in spec.Ranges ?? [])
        {
            if (range is null || (range.Min is null && range.Max is null)) problems.Add($"ranges.{column}", "give min, max or both");
            else if (range.Min > range.Max) problems.Add($"ranges.{column}", $"min {range.Min} is above max {range.Max}");
        }
        if (spec.ChampionTolerance is < 0 or > 1) problems.Add("championTolerance", "a fraction from 0 to 1");
        if (spec.SimplerWithin is { } within && !Training.TrainingOptions.IsSimplerWithin(within))
        {
            problems.Add("simplerWithin", $"standard errors from 0 (the best candidate always wins) to {Training.TrainingOptions.MaxSimplerWithin}");
        }
        if (spec.ApprovalTimeout is { } timeout && timeout <= TimeSpan.Zero) problems.Add("approvalTimeout", "must be positive");
        if (spec.ApprovalTimeout > ModelSpec.MaxDuration) problems.Add("approvalTimeout", ModelSpec.MaxDurationRule);
        if (spec.Seed is < 0) problems.Add("seed", "must not be negative");
        if (spec.Drift is { } drift) DriftSpecValidation.Validate(drift, problems);
    }

    /// <summary>
    /// The task a run under <paramref name="spec"/> would have: the spec's, else the latest data's while the spec keeps
    /// its label (another label makes another task, inferred from that label's values at the next upload); null when not known.
    /// </summary>
    private static TaskKind? TaskInForce(ModelSpec spec, DatasetSchema? latest) =>
        spec.Task ?? (spec.Label is null || spec.Label == latest?.Label ? latest?.Task : null);

    private static void CheckMetrics(ModelSpec spec, DatasetSchema? latest, SpecProblems problems)
    {
        var task = TaskInForce(spec, latest);
        var all = Enum.GetValues<TaskKind>().SelectMany(Metrics.For).Distinct(StringComparer.Ordinal).ToList();
        var valid = task is { } t ? Metrics.For(t) : all;
        var forWhat = task is { } k ? $" for a {TaskName(k)} task" : "";
        void Check(string field, string metric)
        {
            if (!all.Contains(metric, StringComparer.Ordinal)) problems.Add(field, $"unknown metric '{metric}'; {NameSuggestions.Hint(metric, valid)}");
            else if (!valid.Contains(metric, StringComparer.Ordinal)) problems.Add(field, $"'{metric}' is not reported{forWhat}; one of {string.Join(", ", valid)}");
        }
        if (spec.Metric is { } metric) Check("metric", metric);
        foreach (var (name, _) in spec.Minimum ?? []) Check($"minimum.{name}", name);
        foreach (var (name, value) in spec.Minimum ?? [])
        {
            if (!all.Contains(name, StringComparer.Ordinal)) continue;
            var (low, high, rule) = Metrics.Bounds(name);
            if (value < low || value > high) problems.Add($"minimum.{name}", $"{value.ToString(System.Globalization.CultureInfo.InvariantCulture)} is out of range ({rule}): no model could pass such a gate");
        }
        // Without a task the metrics named must still be those of one task: the run's task is inferred from the data, and
        // no data makes a task that reports auc and rmse.
        var named = new[] { spec.Metric }.Concat((spec.Minimum ?? []).Keys).OfType<string>().Where(n => all.Contains(n, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (task is null && named.Count > 1 && !Enum.GetValues<TaskKind>().Any(k => named.All(n => Metrics.For(k).Contains(n, StringComparer.Ordinal))))
        {
            var byTask = string.Join("; ", Enum.GetValues<TaskKind>().Select(k => $"{TaskName(k)}: {string.Join(", ", Metrics.For(k))}"));
            problems.Add(spec.Metric is not null ? "metric" : "minimum", $"{string.Join(", ", named.Select(n => $"'{n}'"))} are not all reported by one task; name metrics of one task ({byTask}), or give the task");
        }
    }

    /// <summary>
    /// A binary task needs a label of two values: one asked of the latest data's label when that holds another number of
    /// them would be quarantined at the next upload of the same data, so it is refused now, as other columns are checked.
    /// </summary>
    private static void CheckBinaryLabel(ModelSpec spec, DatasetSchema? latest, long? latestLabelValues, SpecProblems problems)
    {
        if (spec.Task != TaskKind.Binary || latest is null || latestLabelValues is not { } values || values == 2) return;
        if ((spec.Label ?? latest.Label) != latest.Label || problems.Has("task") || problems.Has("label")) return;
        problems.Add("task",
            $"a binary task needs a label of exactly two values, and '{latest.Label}' holds {values} in the latest data; " +
            $"choose {(values > 2 ? $"{TaskName(TaskKind.Regression)} or {TaskName(TaskKind.Multiclass)}" : TaskName(TaskKind.Regression))}, leave the task out to have it inferred, or name a label of two values");
    }

    private static void CheckColumns(ModelSpec spec, DatasetSchema? latest, SpecProblems problems)
    {
        if (spec.Label is { Length: 0 }) problems.Add("label", "must not be empty");
        if (spec.Comment is { } comment && Datasets.CommentCharacter.Problem(comment) is { } commentProblem) problems.Add("comment", commentProblem);
        if (spec.DecimalSeparator is { } mark && DecimalMark.Problem(mark) is { } markProblem) problems.Add(DecimalMark.Field, markProblem);
        if (spec.ColumnNames is not null && spec.HasHeader is true)
        {
            problems.Add("columnNames", "names the columns of a file without a header, and hasHeader is true (the file's header names them); leave one of the two out");
        }
        if (spec.ColumnNames is { } names)
        {
            if (names.Any(string.IsNullOrWhiteSpace)) problems.Add("columnNames", "every name must be non-empty");
            foreach (var duplicate in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1)) problems.Add("columnNames", $"'{duplicate.Key}' is named twice");
        }
        // Names are checked against the columns the spec itself gives for a file without header, else against the latest
        // dataset version; a model with no data yet has nothing to check them against.
        IReadOnlyList<string>? known = spec.ColumnNames is { Count: > 0 } given ? given : latest?.Columns.Select(c => c.Name).ToList();
        var source = spec.ColumnNames is { Count: > 0 } ? "columnNames" : "the latest dataset";
        void Check(string field, string column)
        {
            if (known is not null && !known.Contains(column, StringComparer.Ordinal))
            {
                problems.Add(field, $"no column '{column}' in {source}; {NameSuggestions.Hint(column, known, "its columns are")}");
            }
        }
        if (spec.Label is { Length: > 0 } label) Check("label", label);
        if (spec.TimeColumn is { } time) Check("timeColumn", time);
        foreach (var (column, _) in spec.Columns ?? []) Check($"columns.{column}", column);
        foreach (var (column, _) in spec.Ranges ?? [])
        {
            Check($"ranges.{column}", column);
            // Bounds are of numbers: a column the spec types, else the data holds (unless columnNames names the columns anew),
            // as anything else is never checked against them.
            var held = spec.ColumnNames is null ? latest?.Columns.FirstOrDefault(c => c.Name == column)?.Kind : null;
            if ((spec.Columns?.GetValueOrDefault(column) ?? held) is { } bounded and not ColumnKind.Numeric)
            {
                problems.Add($"ranges.{column}", $"'{column}' is a {SpecReader.EnumNames(typeof(ColumnKind))[(int)bounded]} column, and ranges bound numeric columns; leave it out of ranges, or declare it numeric under columns");
            }
        }
        for (var i = 0; i < (spec.Exclude?.Count ?? 0); i++) Check($"exclude[{i}]", spec.Exclude![i]);
        for (var i = 0; i < (spec.Sensitive?.Count ?? 0); i++) Check($"sensitive[{i}]", spec.Sensitive![i]);
        // The label in force: the spec's, else the one the latest dataset version has (given before, or inferred).
        var labelInForce = spec.Label ?? latest?.Label;
        foreach (var (column, _) in spec.Drift?.Columns ?? [])
        {
            Check($"drift.columns.{column}", column);
            if (column == labelInForce) problems.Add($"drift.columns.{column}", "the label is not compared by the drift check (it is not an input); name a feature");
            else if ((spec.Exclude ?? []).Contains(column, StringComparer.Ordinal)) problems.Add($"drift.columns.{column}", "the column is excluded: it is not a feature, so the drift check never sees it");
            else if ((spec.Sensitive ?? []).Contains(column, StringComparer.Ordinal)) problems.Add($"drift.columns.{column}", "the column is sensitive: it is never logged, so the drift check never sees it");
        }
        foreach (var (field, list) in new[] { ("exclude", spec.Exclude), ("sensitive", spec.Sensitive) })
        {
            foreach (var twice in (list ?? []).GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1)) problems.Add(field, $"'{twice.Key}' is named twice");
        }
        if (labelInForce is { } l && (spec.Sensitive ?? []).Contains(l, StringComparer.Ordinal)) problems.Add("sensitive", $"the label '{l}' cannot also be sensitive");
        if (labelInForce is { } m && (spec.Exclude ?? []).Contains(m, StringComparer.Ordinal)) problems.Add("exclude", $"the label '{m}' cannot also be excluded");

        // A regression predicts a number: the label of a spec that asks for one must hold numbers (or 0/1 booleans), as the
        // spec types it, else as the data holds it. (Without a task, the task is inferred from the label's values.)
        if (spec.Task == TaskKind.Regression && labelInForce is { Length: > 0 } regressed
            && (spec.Columns?.GetValueOrDefault(regressed) ?? latest?.Columns.FirstOrDefault(c => c.Name == regressed)?.Kind) is { } kind and (ColumnKind.Text or ColumnKind.Categorical or ColumnKind.DateTime))
        {
            problems.Add("label",
                $"the label '{regressed}' is a {SpecReader.EnumNames(typeof(ColumnKind))[(int)kind]} column, and a regression predicts a number; "
                + "name a numeric label, or choose the binary or multiclass task");
        }
    }

    private static void CheckTrainers(ModelSpec spec, DatasetSchema? latest, SpecProblems problems)
    {
        if (spec.Trainers is not { } trainers) return;
        if (trainers.Count == 0)
        {
            // A list whose every item was of the wrong kind (named already) was read without them: it was not given empty.
            if (!problems.HasWithin("trainers")) problems.Add("trainers", "name at least one trainer, or leave the field out for the defaults");
            return;
        }
        var names = TrainerCatalog.Names.ToList();
        long combinations = 0;
        for (var i = 0; i < trainers.Count; i++)
        {
            var trainer = trainers[i];
            if (string.IsNullOrWhiteSpace(trainer.Name))
            {
                problems.Add($"trainers[{i}].name", $"required; one of {string.Join(", ", names)}");
                continue;
            }
            if (TrainerCatalog.ParametersOf(trainer.Name) is not { } parameters)
            {
                problems.Add($"trainers[{i}].name", $"unknown trainer '{trainer.Name}'; {NameSuggestions.Hint(trainer.Name, names)}");
                continue;
            }
            if (trainer.Name == Blend.Name && TaskInForce(spec, latest) is { } task && !Blend.Supports(task))
            {
                problems.Add($"trainers[{i}].name", Blend.Refusal(TaskName(task)));
            }
            long count = 1;
            foreach (var (parameter, values) in trainer.Grid ?? [])
            {
                var field = $"trainers[{i}].grid.{parameter}";
                if (!parameters.Contains(parameter, StringComparer.Ordinal))
                {
                    problems.Add(field, parameters.Count == 0
                        ? $"{trainer.Name} takes no parameters; leave its grid out"
                        : $"{trainer.Name} takes no parameter '{parameter}'; {NameSuggestions.Hint(parameter, parameters, "it takes")}");
                }
                // A list whose every value was of the wrong kind (named already) was read without them: it was not given empty.
                else if (values is null || values.Count == 0) { if (!problems.HasWithin(field)) problems.Add(field, "give at least one value"); }
                else
                {
                    for (var j = 0; j < values.Count; j++)
                    {
                        if (TrainerCatalog.ValueProblem(parameter, values[j]) is { } problem) problems.Add($"{field}[{j}]", problem);
                    }
                }
                count *= Math.Max(1, values?.Count ?? 1);
            }
            combinations += count;
        }
        if (combinations > TrainerCatalog.MaxCandidates)
        {
            problems.Add("trainers", $"the grids make {combinations} candidates; at most {TrainerCatalog.MaxCandidates}");
        }
    }

    /// <summary>A task as the spec spells it (<c>regression</c>), for messages.</summary>
    public static string TaskName(TaskKind task) => SpecReader.EnumNames(typeof(TaskKind))[(int)task];
}
