using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>The parts a date cell becomes (<see cref="DateFeatures"/>), checked against Python's datetime, and the mapping saved and loaded in a model.</summary>
public sealed class DateFeaturesTests
{
    [Theory]
    // days since 1970 UTC, year, month, day, weekday (Sunday 0), hour, minute
    [InlineData("2025-04-06T08:30:00", 20184.354166, 2025, 4, 6, 0, 8, 30)]
    [InlineData("2025-04-02 03:00:00", 20180.125, 2025, 4, 2, 3, 3, 0)]
    [InlineData("1958-03-29", -4296, 1958, 3, 29, 6, 0, 0)]
    // The clock as written, the instant in UTC: 23:30 at +02:00 is 21:30 UTC the same day.
    [InlineData("2025-12-31T23:30:00+02:00", 20453.895833, 2025, 12, 31, 3, 23, 30)]
    [InlineData("01/31/2024", 19753, 2024, 1, 31, 3, 0, 0)]
    public void Map_ADate_GivesTheInstantAndTheClocksParts(string cell, double days, int year, int month, int day, int weekday, int hour, int minute)
    {
        var parts = new DateFeatures.DateParts();

        DateFeatures.Map(new DateFeatures.DateText { Value = cell }, parts);

        Assert.Equal(days, parts.Days, 0.01);
        Assert.Equal([year, month, day, weekday, hour, minute], new[] { parts.Year, parts.Month, parts.Day, parts.Weekday, parts.Hour, parts.Minute });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("next Tuesday")]
    [InlineData("19580329")]
    public void Map_MissingOrNotADate_GivesNaNInEveryPart(string? cell)
    {
        var parts = new DateFeatures.DateParts();

        DateFeatures.Map(new DateFeatures.DateText { Value = cell }, parts);

        Assert.All(new[] { parts.Days, parts.Year, parts.Month, parts.Day, parts.Weekday, parts.Hour, parts.Minute }, p => Assert.True(float.IsNaN(p)));
    }

    [Fact]
    public void SavedModel_LoadedInAnotherPipelineContext_GivesTheSameParts()
    {
        var ml = FeaturePipeline.Context(1);
        var rows = ml.Data.LoadFromEnumerable(new[] { new Row { When = "2025-04-06T08:30:00" }, new Row { When = "2025-04-02" } });
        IEstimator<ITransformer>? chain = null;
        var outputs = DateFeatures.Featurize(ml, nameof(Row.When), "f_when", step => chain = chain is null ? step : chain.Append(step));
        var model = chain!.Fit(rows);
        using var zip = new MemoryStream();
        ml.Model.Save(model, rows.Schema, zip);

        zip.Position = 0;
        var loaded = FeaturePipeline.Context(2).Model.Load(zip, out _);
        var hours = loaded.Transform(rows).GetColumn<float>(outputs[DateFeatures.Parts.ToList().IndexOf(nameof(DateFeatures.DateParts.Hour))]).ToArray();
        Assert.Equal([8f, 0f], hours);
        Assert.Equal(["f_when.days", "f_when.year", "f_when.month", "f_when.day", "f_when.weekday", "f_when.hour", "f_when.minute"], outputs);
    }

    private sealed class Row
    {
        public string When { get; set; } = "";
    }
}
