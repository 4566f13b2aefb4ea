using Serverless.Core.Monitoring;
using Serverless.Core.Specs;

namespace Serverless.Tests.Monitoring;

/// <summary>Evidently's choice of test per feature and the verdicts, on samples with known answers; the radix sort against Array.Sort.</summary>
public sealed class DriftDetectorTests
{
    private static readonly DriftSettings Defaults = new();

    private static double[] Normal(int n, double shift, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) + shift)];
    }

    [Fact]
    public void CompareNumeric_SmallReference_UsesKsAtPValue005()
    {
        var feature = DriftDetector.CompareNumeric("x", Normal(800, 0, 1), Normal(500, 0.5, 2), 800, Defaults)!;

        Assert.Equal(DriftMethods.Ks, feature.Method);
        Assert.Equal(0.05, feature.Threshold);
        Assert.True(feature.Drifted);
        Assert.Equal(feature.Statistics["ksPValue"], feature.PValue);
    }

    [Fact]
    public void CompareNumeric_LargeReferenceSameDistribution_UsesWassersteinAndFindsNoDrift()
    {
        var feature = DriftDetector.CompareNumeric("x", Normal(5000, 0, 1), Normal(2000, 0, 2), 5000, Defaults)!;

        Assert.Equal(DriftMethods.Wasserstein, feature.Method);
        Assert.Equal(0.1, feature.Threshold);
        Assert.False(feature.Drifted);
        Assert.Null(feature.PValue);
    }

    [Fact]
    public void CompareNumeric_FewValuesSmallReference_UsesZTestForTwoAndChiSquareForMore()
    {
        double[] twoRef = [.. Enumerable.Range(0, 400).Select(i => (double)(i % 2))];
        double[] threeRef = [.. Enumerable.Range(0, 400).Select(i => (double)(i % 3))];

        var two = DriftDetector.CompareNumeric("b", twoRef, twoRef, 400, Defaults)!;
        var three = DriftDetector.CompareNumeric("c", threeRef, [.. threeRef.Select(v => v == 2 ? 0 : v)], 400, Defaults)!;

        Assert.Equal(DriftMethods.ZTest, two.Method);
        Assert.False(two.Drifted);
        Assert.Equal(DriftMethods.ChiSquare, three.Method);
        Assert.True(three.Drifted);
    }

    [Fact]
    public void CompareCategorical_LargeReferenceShiftedShares_UsesJensenShannonAndFindsDrift()
    {
        var reference = Enumerable.Range(0, 3000).Select(i => (string?)(i % 3 == 0 ? "CSH" : "CRD"));
        var current = Enumerable.Range(0, 1000).Select(i => (string?)(i % 4 == 0 ? "CRD" : "CSH")).Append(null);

        var feature = DriftDetector.CompareCategorical("payment", reference, current, 3000, Defaults)!;

        Assert.Equal(DriftMethods.JensenShannon, feature.Method);
        Assert.True(feature.Drifted);
        Assert.Equal(1, feature.CurrentMissing);
        Assert.True(feature.Statistics.ContainsKey(DriftMethods.ZTest));
    }

    /// <summary>The same values with every k-th one missing (NaN).</summary>
    private static double[] WithMissing(double[] values, int every) => [.. values.Select((v, i) => i % every == 0 ? double.NaN : v)];

    [Fact]
    public void CompareNumeric_SameValuesButAFieldLeftOutOfHalfTheWindow_HasDriftedByItsMissingValues()
    {
        var reference = Normal(5000, 0, 1);
        var current = WithMissing(Normal(2000, 0, 2), 2);

        var feature = DriftDetector.CompareNumeric("trip_distance", reference, current, 5000, Defaults)!;

        Assert.True(feature.Drifted, "half the window's rows lost the field, none of the training rows had");
        Assert.Equal(DriftMethods.Wasserstein, feature.Method);
        Assert.True(feature.Statistic < feature.Threshold, "the values that came still look like training's");
        var missing = feature.Missing!;
        Assert.True(missing.Drifted);
        Assert.Equal((0, 0.0, 1000, 0.5), (missing.ReferenceMissing, missing.ReferenceShare, missing.CurrentMissing, missing.CurrentShare));
        Assert.True(missing.PValue < 1e-6);
        Assert.Equal(1000, feature.CurrentMissing);
        Assert.Contains("missing in 50.0% of the window's rows against 0.0% of the reference's", feature.Note);
    }

    [Fact]
    public void CompareNumeric_MissingShareMovedByLessThanTenPoints_IsNotDrift_EvenWhereTheTestTellsItFromChance()
    {
        // 5% of 100,000 training rows missing against 10% of 100,000 live rows: the z-test's p is far below 0.05, but the
        // share moved by five points (DriftDetector.MissingShareChange is ten).
        var reference = WithMissing(Normal(100_000, 0, 1), 20);
        var current = WithMissing(Normal(100_000, 0, 2), 10);

        var feature = DriftDetector.CompareNumeric("x", reference, current, 100_000, Defaults)!;

        Assert.True(feature.Missing!.PValue < 0.05);
        Assert.False(feature.Missing.Drifted);
        Assert.False(feature.Drifted);
        Assert.Null(feature.Note);
    }

    [Fact]
    public void CompareNumeric_NoMissingValueOnEitherSide_HasNoMissingShare()
    {
        var values = Normal(800, 0, 1);
        var feature = DriftDetector.CompareNumeric("x", values, values, 800, Defaults)!;

        Assert.Null(feature.Missing);
        Assert.False(feature.Drifted);
    }

    [Fact]
    public void CompareNumeric_AFieldLiveTrafficStoppedSending_IsComparedByItsMissingValuesAndHasDrifted()
    {
        var current = Enumerable.Repeat(double.NaN, 300).ToArray();

        var feature = DriftDetector.CompareNumeric("passenger_count", Normal(800, 0, 1), current, 800, Defaults)!;

        Assert.True(feature.Drifted);
        Assert.Equal(DriftMethods.ZTest, feature.Method);
        Assert.Equal((800, 0, 300), (feature.ReferenceRows, feature.CurrentRows, feature.CurrentMissing));
        Assert.Equal(1.0, feature.Missing!.CurrentShare);
        Assert.StartsWith("passenger_count: no value in the window, so only the share of missing values was compared: missing in 100.0%", feature.Note);
        Assert.Null(DriftDetector.CompareNumeric("empty", [double.NaN], current, 1, Defaults));
    }

    [Fact]
    public void CompareCategorical_MissingInTrainingButSentLive_HasDriftedByItsMissingValues()
    {
        // A field training rarely had (40% missing) that live traffic always sends, its values spread alike.
        var reference = Enumerable.Range(0, 3000).Select(i => i % 5 < 2 ? null : (string?)(i % 2 == 0 ? "CSH" : "CRD"));
        var current = Enumerable.Range(0, 1000).Select(i => (string?)(i % 2 == 0 ? "CSH" : "CRD"));

        var feature = DriftDetector.CompareCategorical("payment", reference, current, 3000, Defaults)!;

        Assert.True(feature.Drifted);
        Assert.True(feature.Statistic < feature.Threshold, "the values sent are spread as in training");
        Assert.Equal((1200, 0.4, 0, 0.0), (feature.Missing!.ReferenceMissing, feature.Missing.ReferenceShare, feature.Missing.CurrentMissing, feature.Missing.CurrentShare));
        Assert.True(feature.Missing.Z > 0, "the reference's share is the larger");
    }

    [Fact]
    public void CompareCategorical_NumericOnlyMethodInSpec_FallsBackToTheDefaultWithANote()
    {
        var settings = new DriftSettings { Method = DriftMethods.Ks };

        var feature = DriftDetector.CompareCategorical("v", ["a", "b", "c"], ["a", "b", "c"], 3, settings)!;

        Assert.Equal(DriftMethods.ChiSquare, feature.Method);
        Assert.Contains("needs numbers", feature.Note);
    }

    /// <summary>
    /// The z-test compares the shares of two values: asked of a numeric feature with many, it would test the smallest
    /// value's share alone and call a large shift stable. It falls back to the default test with a note; on two values it holds.
    /// </summary>
    [Fact]
    public void CompareNumeric_ZTestAskedOfAFeatureWithManyValues_FallsBackToTheDefaultWithANote_OnTwoValuesItHolds()
    {
        var settings = new DriftSettings { Method = DriftMethods.ZTest };
        double[] twoRef = [.. Enumerable.Range(0, 400).Select(i => (double)(i % 2))];

        var many = DriftDetector.CompareNumeric("pH", Normal(800, 0, 1), Normal(300, 1, 2), 800, settings)!;
        var two = DriftDetector.CompareNumeric("b", twoRef, twoRef, 400, settings)!;

        Assert.Equal(DriftMethods.Ks, many.Method);
        Assert.True(many.Drifted);
        Assert.Contains("'ztest' compares the shares of a feature's two values", many.Note);
        Assert.Equal(DriftMethods.ZTest, two.Method);
        Assert.Null(two.Note);
    }

    [Fact]
    public void CompareCategorical_ZTestAskedOfAFeatureWithMoreThanTwoValues_FallsBackToTheDefaultWithANote()
    {
        var settings = new DriftSettings { Method = DriftMethods.ZTest };
        // The first value's share holds; the other two trade places.
        var reference = Enumerable.Range(0, 900).Select(i => (string?)(i % 3 == 0 ? "CRD" : i % 3 == 1 ? "CSH" : "NOC"));
        var current = Enumerable.Range(0, 300).Select(i => (string?)(i % 3 == 0 ? "CRD" : "NOC"));

        var feature = DriftDetector.CompareCategorical("payment", reference, current, 900, settings)!;

        Assert.Equal(DriftMethods.ChiSquare, feature.Method);
        Assert.True(feature.Drifted);
        Assert.Contains("'ztest' compares the shares of a feature's two values", feature.Note);
    }

    [Fact]
    public void CompareNumeric_ColumnThresholdInSpec_OverridesTheDefault()
    {
        var settings = DriftSettings.From(new DriftSpec { Columns = new() { ["x"] = new ColumnDriftSpec { Method = "psi", Threshold = 5 } } }, new DriftOptions());

        var feature = DriftDetector.CompareNumeric("x", Normal(800, 0, 1), Normal(500, 0.5, 2), 800, settings)!;

        Assert.Equal(DriftMethods.Psi, feature.Method);
        Assert.Equal(5, feature.Threshold);
        Assert.False(feature.Drifted);
    }

    [Fact]
    public void DatasetVerdict_HalfTheFeaturesDrifted_IsDriftAtTheDefaultShare()
    {
        var drifted = DriftDetector.CompareNumeric("a", Normal(800, 0, 1), Normal(500, 1, 2), 800, Defaults)!;
        var stable = DriftDetector.CompareNumeric("b", Normal(800, 0, 3), Normal(500, 0, 4), 800, Defaults)!;

        var verdict = DriftDetector.DatasetVerdict([drifted, stable], Defaults.DriftShare);

        Assert.True(verdict.Drifted);
        Assert.Equal(0.5, verdict.Share);
    }

    [Fact]
    public void RadixSort_RandomDoublesWithSignsZerosAndExtremes_SortsAsArraySort()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 50_000).Select(i => i % 97 == 0 ? 0.0 : i % 89 == 0 ? -0.0 : (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-300, 300))).ToArray();
        var expected = values.ToArray();
        Array.Sort(expected);

        RadixSort.Sort(values);

        Assert.Equal(expected, values);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("2026-11-26T05:59:00Z", true)]
    [InlineData("2026-11-26T06:00:00Z", false)]
    public void IsDue_HourlyScheduleAt0630_DueWhenAnHourStartedSinceTheLastCheck(string? last, bool due)
    {
        var now = DateTimeOffset.Parse("2026-11-26T06:30:00Z");

        Assert.Equal(due, Serverless.Orchestrations.DriftTimer.IsDue("0 * * * *", last is null ? null : DateTimeOffset.Parse(last), now));
    }

    /// <summary>Eight weeks of hourly timestamps, as a training file of hourly data holds them.</summary>
    private static List<string?> Hourly(DateTime start, int hours) =>
        [.. Enumerable.Range(0, hours).Select(h => (string?)start.AddHours(h).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture))];

    [Fact]
    public void CompareDate_OneDayWindow_ComparesTheHourOnly_AndFindsNightTrafficDrifted()
    {
        var reference = Hourly(new DateTime(2025, 3, 3), 56 * 24);
        // Live traffic of one day later on, every hour of it: the hours are spread as in training.
        var day = Hourly(new DateTime(2025, 6, 2), 24).SelectMany(d => Enumerable.Repeat(d, 20)).ToList();
        // Live traffic only between midnight and 5:00.
        var night = day.Where(d => DateTime.Parse(d!, System.Globalization.CultureInfo.InvariantCulture).Hour < 6).ToList();

        var same = DriftDetector.CompareDate("when", reference, day, TimeSpan.FromDays(1), new DriftSettings(), out var note);
        var shifted = DriftDetector.CompareDate("when", reference, night, TimeSpan.FromDays(1), new DriftSettings(), out _);

        Assert.Equal("when.hour", Assert.Single(same).Name);
        Assert.False(same[0].Drifted, $"{same[0].Method} {same[0].Statistic} against {same[0].Threshold}");
        Assert.True(Assert.Single(shifted).Drifted, $"{shifted[0].Method} {shifted[0].Statistic} against {shifted[0].Threshold}");
        // A new month and a day's weekday are not drift: they are not compared, and the note says why.
        Assert.Equal("when: a datetime column; compared by hour; its instant and year move on with time, and not by weekday "
            + "(the window is shorter than 7 day(s)), month (the window is shorter than 365 day(s)).", note);
    }

    [Fact]
    public void CompareDate_WeekWindow_ComparesTheWeekday_AndSkipsPartsThatNeverVaryInTraining()
    {
        // Dates without a time: the hour is always 0 in training, so it says nothing.
        var reference = Enumerable.Range(0, 700).Select(d => (string?)new DateTime(2024, 1, 1).AddDays(d).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var weekends = reference.Where(d => DateTime.Parse(d!, System.Globalization.CultureInfo.InvariantCulture).DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday).ToList();
        var columns = new Dictionary<string, ColumnDriftSpec> { ["when"] = new() { Method = DriftMethods.Psi, Threshold = 0.2 } };

        var features = DriftDetector.CompareDate("when", reference, [.. weekends, null, "not a date"], TimeSpan.FromDays(7), new DriftSettings { Columns = columns }, out var note);

        var weekday = Assert.Single(features);
        Assert.Equal("when.weekday", weekday.Name);
        // The date column's own drift settings apply to its parts.
        Assert.Equal(DriftMethods.Psi, weekday.Method);
        Assert.Equal(0.2, weekday.Threshold);
        Assert.True(weekday.Drifted);
        Assert.Equal(2, weekday.CurrentMissing);
        Assert.Contains("compared by weekday", note, StringComparison.Ordinal);
        Assert.Contains("hour (one value in the reference)", note, StringComparison.Ordinal);
    }
}
