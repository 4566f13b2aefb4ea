using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Serverless.Core.Datasets;

namespace Serverless.Core.Training;

/// <summary>
/// A date/time column as numbers a model can learn from: the instant (days since 1970-01-01 UTC, for a trend), and the
/// clock's parts as written (year, month, day of the month, day of the week, hour, minute, for seasons and the shape of
/// a day or a week). The cell is read by <see cref="CellValues.TryDate(ReadOnlySpan{char}, out DateTimeOffset)"/>, the reading
/// ingestion used to call the column a date, so training and serving read a date alike; a missing or unreadable date
/// gives NaN in every part, which the featurization then fills with the training mean.
/// <para>
/// ML.NET has no date transform, so this is an ML.NET custom mapping saved in the model by its contract name
/// (<see cref="ContractName"/>): ML.NET asks that a context loading such a model has the mapping's assembly registered,
/// which <see cref="FeaturePipeline.Context"/> does.
/// </para>
/// </summary>
public static class DateFeatures
{
    public const string ContractName = "Serverless.DateParts";

    /// <summary>The fixed column the mapping reads; each date column is copied to it in turn.</summary>
    internal const string InputColumn = "__date";

    /// <summary>The parts, in the order they join the features, named as the slots of <c>f_{column}.{part}</c>.</summary>
    public static readonly IReadOnlyList<string> Parts = [nameof(DateParts.Days), nameof(DateParts.Year), nameof(DateParts.Month),
        nameof(DateParts.Day), nameof(DateParts.Weekday), nameof(DateParts.Hour), nameof(DateParts.Minute)];

    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// The estimators that turn date column <paramref name="column"/> into one featurized column per part,
    /// <c>{output}.{part}</c>, missing parts replaced by the training mean. Returns the output column names.
    /// </summary>
    public static IReadOnlyList<string> Featurize(MLContext ml, string column, string output, Action<IEstimator<ITransformer>> add)
    {
        add(ml.Transforms.CopyColumns(InputColumn, column));
        add(ml.Transforms.CustomMapping<DateText, DateParts>(Map, ContractName));
        var outputs = Parts.Select(p => new InputOutputColumnPair($"{output}.{p.ToLowerInvariant()}", PartColumn(p))).ToArray();
        add(ml.Transforms.ReplaceMissingValues(outputs, MissingValueReplacingEstimator.ReplacementMode.Mean));
        return [.. outputs.Select(o => o.OutputColumnName)];
    }

    private const string PartPrefix = "__date_";

    private static string PartColumn(string part) => PartPrefix + part;

    /// <summary>Reads one date cell into its parts: NaN in each when the cell is missing or not a date.</summary>
    public static void Map(DateText input, DateParts parts)
    {
        if (string.IsNullOrEmpty(input.Value) || !CellValues.TryDate(input.Value, out var date))
        {
            parts.Days = parts.Year = parts.Month = parts.Day = parts.Weekday = parts.Hour = parts.Minute = float.NaN;
            return;
        }
        var clock = date.DateTime;
        parts.Days = (float)((date - Epoch).Ticks / (double)TimeSpan.TicksPerDay);
        parts.Year = clock.Year;
        parts.Month = clock.Month;
        parts.Day = clock.Day;
        parts.Weekday = (int)clock.DayOfWeek;
        parts.Hour = clock.Hour;
        parts.Minute = clock.Minute;
    }

    /// <summary>The mapping's input: the date cell's text.</summary>
    public sealed class DateText
    {
        [ColumnName(InputColumn)]
        public string? Value { get; set; }
    }

    /// <summary>The mapping's output, one column per part.</summary>
    public sealed class DateParts
    {
        [ColumnName(PartPrefix + nameof(Days))] public float Days { get; set; }
        [ColumnName(PartPrefix + nameof(Year))] public float Year { get; set; }
        [ColumnName(PartPrefix + nameof(Month))] public float Month { get; set; }
        [ColumnName(PartPrefix + nameof(Day))] public float Day { get; set; }
        [ColumnName(PartPrefix + nameof(Weekday))] public float Weekday { get; set; }
        [ColumnName(PartPrefix + nameof(Hour))] public float Hour { get; set; }
        [ColumnName(PartPrefix + nameof(Minute))] public float Minute { get; set; }
    }

    /// <summary>What ML.NET finds by <see cref="ContractName"/> when it loads a saved model holding the mapping.</summary>
    [CustomMappingFactoryAttribute(ContractName)]
    public sealed class Factory : CustomMappingFactory<DateText, DateParts>
    {
        public override Action<DateText, DateParts> GetMapping() => Map;
    }
}
