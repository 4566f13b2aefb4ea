using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// Whether a spec still describes a dataset version ingested under another one: same label, task and time column, the
/// decimal separator it names, the kinds its "columns" give, and no column the spec now calls sensitive or excluded among the features the data was
/// ingested with. Where it does not,
/// the data must be ingested again; training on the old version would silently ignore the change. Read by the training
/// run's dataset check, by <c>POST /train</c> before it starts a run, and by a spec change, which says what it needs.
/// </summary>
public static class SpecFit
{
    /// <summary>What to do about <see cref="Mismatches"/>, said once after them.</summary>
    public const string Remedy = "Upload the data again so that it is ingested under the current spec.";

    /// <summary>
    /// Why a run on <paramref name="dataset"/> under the spec in force (<paramref name="spec"/>; null: none) would fail at
    /// its dataset check, in words with what to do; null when it would not. Asked before any run starts (<c>POST /train</c>,
    /// a drift check that confirms drift, a scheduled retrain), so that none starts only to fail.
    /// </summary>
    public static string? Refusal(string model, SpecVersion? spec, DatasetManifest dataset) =>
        spec is not null && Mismatches(spec.Spec, spec.Sha256, dataset) is { Count: > 0 } mismatches
            ? $"Dataset version {dataset.Version} of '{model}' cannot be trained on under spec version {spec.Version}: {string.Join(" ", mismatches)} {Remedy}"
            : null;

    /// <summary>Where <paramref name="spec"/> no longer describes <paramref name="manifest"/>; none when it was ingested under the same spec.</summary>
    public static IReadOnlyList<string> Mismatches(ModelSpec spec, string specSha256, DatasetManifest manifest) =>
        manifest.Spec?.Sha256 == specSha256 ? [] : [.. Differences(spec, manifest)];

    private static IEnumerable<string> Differences(ModelSpec spec, DatasetManifest manifest)
    {
        var schema = manifest.Schema;
        if (spec.Label is { } label && !label.Equals(schema.Label, StringComparison.Ordinal))
        {
            yield return $"The spec's label is '{label}', but {manifest.Version} was ingested with label '{schema.Label}'.";
        }
        if (spec.Task is { } task && task != schema.Task)
        {
            yield return $"The spec's task is {Lower(task)}, but {manifest.Version} was ingested as {Lower(schema.Task)}.";
        }
        if (DecimalMark.Of(spec) is { } mark && mark != schema.DecimalSeparator)
        {
            yield return $"The spec's {DecimalMark.Field} is '{mark}', but {manifest.Version} was read with '{schema.DecimalSeparator}'.";
        }
        if (spec.TimeColumn is { } time && schema.Columns.All(c => c.Name != time))
        {
            yield return $"The spec's time column '{time}' is not a column of {manifest.Version}.";
        }
        foreach (var (column, kind) in spec.Columns ?? [])
        {
            if (schema.Columns.FirstOrDefault(c => c.Name == column) is { } ingested && ingested.Kind != kind)
            {
                yield return $"Column '{column}' is {Lower(kind)} in the spec, but {manifest.Version} was ingested with it as {Lower(ingested.Kind)}.";
            }
        }
        foreach (var column in (spec.Sensitive ?? []).Intersect(schema.Features, StringComparer.Ordinal))
        {
            yield return $"Column '{column}' is sensitive in the spec, but {manifest.Version} was ingested with it as a feature.";
        }
        foreach (var column in (spec.Exclude ?? []).Intersect(schema.Features, StringComparer.Ordinal))
        {
            yield return $"Column '{column}' is excluded in the spec, but {manifest.Version} was ingested with it as a feature.";
        }
    }

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
