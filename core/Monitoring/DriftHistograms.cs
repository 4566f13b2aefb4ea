using System.Globalization;
using System.Text.Json;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Core.Monitoring;

/// <summary>
/// One feature's distribution on both sides of the newest drift check, in the same bins: the reference from the
/// production version's dataset profile (its histogram, or its most frequent values), the current side from the live
/// inputs logged in the check's window (sampled as the check samples them).
/// </summary>
public sealed record FeatureHistogram(
    string Model,
    string Feature,
    ColumnKind Kind,
    string CheckId,
    string? DatasetVersion,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    IReadOnlyList<string> Bins,
    IReadOnlyList<long> Reference,
    IReadOnlyList<long> Current,
    long CurrentMissing)
{
    /// <summary>Numeric: current values below the reference's smallest, counted in the first bin (its range is open below for them).</summary>
    public long CurrentBelow { get; init; }

    /// <summary>Numeric: current values above the reference's largest, counted in the last bin (its range is open above for them).</summary>
    public long CurrentAbove { get; init; }
}

/// <summary>Why a histogram cannot be drawn, in words for the person who asked.</summary>
public sealed class HistogramUnavailableException(string message, bool unknownFeature = false) : Exception(message)
{
    public bool UnknownFeature { get; } = unknownFeature;
}

/// <summary>Builds <see cref="FeatureHistogram"/>s for the dashboard's overlay of reference and current values.</summary>
public sealed class DriftHistograms(DriftStore reports, DatasetStore datasets, DriftInputs inputs)
{
    /// <summary>The bin of values the reference's most frequent values leave out.</summary>
    public const string OtherBin = "(other)";

    /// <summary>Most live rows read for one histogram, when the check does not say how many it compared.</summary>
    public const int DefaultMaxRows = 10_000;

    /// <summary>How many of the newest drift reports are searched for one that compared features.</summary>
    public const int ComparedWithin = 50;

    public async Task<FeatureHistogram> BuildAsync(string model, string feature, CancellationToken ct)
    {
        // The newest check that compared features: a check without a verdict (no traffic, too few rows) compares none, and
        // the distributions of the last one that did are still what the dashboard should draw.
        var (_, recent) = await reports.ListAsync(model, 0, ComparedWithin, ct).ConfigureAwait(false);
        if (recent.Count == 0) throw new HistogramUnavailableException($"Model '{model}' has no drift report yet: run a drift check first.");
        var report = recent.FirstOrDefault(r => r.Features is { Count: > 0 } && r.DatasetVersion is not null)
            ?? throw new HistogramUnavailableException($"None of the last {recent.Count} drift checks of '{model}' compared any feature (the newest: {recent[0].Status}, {recent[0].Message})");
        var manifest = await datasets.GetManifestAsync(model, report.DatasetVersion!, ct).ConfigureAwait(false);
        var profile = (manifest is null ? null : await datasets.GetProfileAsync(manifest, ct).ConfigureAwait(false))
            ?? throw new HistogramUnavailableException($"The profile of dataset version {report.DatasetVersion} is gone.");
        var checkedFeatures = report.Features.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var column = profile.Columns.FirstOrDefault(c => c.Name == feature && checkedFeatures.Contains(c.Name));
        if (column is null && checkedFeatures.Contains(feature))
        {
            // A date column is compared by its clock parts (DriftDetector.CompareDate), which the training profile does not count.
            throw new HistogramUnavailableException($"'{feature}' is a part of a date column, which the training profile holds no histogram of; the check's statistics compare its values.");
        }
        if (column is null)
        {
            var columns = checkedFeatures.Where(f => profile.Columns.Any(c => c.Name == f));
            throw new HistogramUnavailableException($"'{feature}' is not a feature of the newest drift check that compared features ({report.CheckId}); those with a histogram: {string.Join(", ", columns)}.", unknownFeature: true);
        }

        var current = await inputs.ReadCurrentAsync(model, report.ProductionVersion!, report.WindowStart, report.WindowEnd, report.MaxRows > 0 ? report.MaxRows : DefaultMaxRows, [feature], ct).ConfigureAwait(false);
        return column.Histogram is { Edges.Count: > 1 } histogram
            ? Numeric(report, column, histogram, DriftInputs.Numbers(current.Rows, feature, manifest!.Schema.DecimalSeparator))
            : Categorical(report, column, current.Rows.Of(feature));
    }

    private static FeatureHistogram Numeric(DriftReport report, ColumnProfile column, Histogram histogram, double[] values)
    {
        var edges = histogram.Edges;
        var counts = new long[histogram.Counts.Count];
        long missing = 0, below = 0, above = 0;
        // The reference's smallest and largest values (the bins' round edges lie beyond them).
        double least = column.Min ?? edges[0], most = column.Max ?? edges[^1];
        foreach (var x in values)
        {
            if (double.IsNaN(x)) { missing++; continue; }
            // Values outside the reference's range are counted apart, so that the answer says how many lie beyond what
            // training saw; in the bins they fall where the profile's rule puts them (the first or last bin beyond the edges).
            if (x < least) below++;
            else if (x > most) above++;
            counts[histogram.BinOf(x)]++;
        }
        var bins = Enumerable.Range(0, counts.Length).Select(i => $"{Format(edges[i])}–{Format(edges[i + 1])}").ToList();
        return new FeatureHistogram(report.Model, column.Name, column.Kind, report.CheckId, report.DatasetVersion, report.WindowStart, report.WindowEnd,
            bins, histogram.Counts, counts, missing) { CurrentBelow = below, CurrentAbove = above };
    }

    private static FeatureHistogram Categorical(DriftReport report, ColumnProfile column, IReadOnlyList<string?> values)
    {
        var top = column.TopValues ?? [];
        var bins = top.Select(t => t.Value).ToList();
        var index = bins.Select((b, i) => (b, i)).ToDictionary(x => x.b, x => x.i, StringComparer.Ordinal);
        var counts = new long[bins.Count + 1];
        long missing = 0;
        foreach (var value in values)
        {
            if (value is not { } text) { missing++; continue; }
            counts[index.TryGetValue(text, out var i) ? i : bins.Count]++;
        }
        var reference = top.Select(t => t.Count).Append(column.OtherCount).ToList();
        return new FeatureHistogram(report.Model, column.Name, column.Kind, report.CheckId, report.DatasetVersion, report.WindowStart, report.WindowEnd,
            [.. bins, OtherBin], reference, counts, missing);
    }

    private static string Format(double x) => x.ToString("G4", CultureInfo.InvariantCulture);
}
