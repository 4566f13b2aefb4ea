using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>Per-column statistics of a dataset version: what the data looked like, and the baseline drift is measured against.</summary>
public sealed record DatasetProfile
{
    public required string Model { get; init; }
    public required string DatasetVersion { get; init; }
    public required long Rows { get; init; }
    public required IReadOnlyList<ColumnProfile> Columns { get; init; }
}

/// <summary>Statistics of one column. Numeric fields are set for numeric columns, <see cref="TopValues"/> for categorical and boolean ones, length statistics for text.</summary>
public sealed record ColumnProfile
{
    public required string Name { get; init; }
    public required ColumnKind Kind { get; init; }
    public required long Count { get; init; }
    public required long Missing { get; init; }

    /// <summary>Distinct non-missing values (exact up to a bound, then estimated; see <see cref="DistinctIsEstimate"/>).</summary>
    public long Distinct { get; init; }
    public bool DistinctIsEstimate { get; init; }

    public double? Min { get; init; }
    public double? Max { get; init; }
    public double? Mean { get; init; }
    public double? StdDev { get; init; }

    /// <summary>Quantiles keyed by probability ("0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99").</summary>
    public IReadOnlyDictionary<string, double>? Quantiles { get; init; }

    public Histogram? Histogram { get; init; }

    /// <summary>The most frequent values and their counts, most frequent first; the rest are summed in <see cref="OtherCount"/>.</summary>
    public IReadOnlyList<ValueCount>? TopValues { get; init; }
    public long OtherCount { get; init; }

    public double? MeanLength { get; init; }
    public int? MinLength { get; init; }
    public int? MaxLength { get; init; }
}

/// <summary>Bin edges (one more than counts) and the count in each bin; values outside fall in the first or last bin.</summary>
public sealed record Histogram(IReadOnlyList<double> Edges, IReadOnlyList<long> Counts)
{
    /// <summary>
    /// The bin a value is counted in, as the profile counted it: from its lower edge, a value on an edge (to within
    /// <see cref="1e-6"/> of a bin) in the bin that starts there; values outside in the
    /// first or last bin.
    /// </summary>
    public int BinOf(double x)
    {
        var tolerance = Edges.Count > 1 ? StreamingHistogram.EdgeTolerance * (Edges[1] - Edges[0]) : 0;
        var index = 0;
        while (index < Counts.Count - 1 && x >= Edges[index + 1] - tolerance) index++;
        return index;
    }
}

public sealed record ValueCount(string Value, long Count);
