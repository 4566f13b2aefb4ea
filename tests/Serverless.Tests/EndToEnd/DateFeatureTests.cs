using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.EndToEnd;

/// <summary>
/// A date/time column is a feature: hourly demand whose shape is the hour of the day and the day of the week is learnt
/// from the timestamp's parts, served from a request's date string, a date that cannot be read is refused and a missing
/// one is filled in and named; the drift check compares live timestamps by their hour of the day.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DateFeatureTests(AzuriteFixture azurite)
{
    private const string Trainers = "\"trainers\":[{\"name\":\"LightGbm\",\"grid\":{\"numberOfLeaves\":[15],\"numberOfIterations\":[150]}}]";

    /// <summary>Demand by the hour over eight weeks: two daily peaks (8:00 and 17:00) on weekdays, a flat day at weekends, a little from the temperature.</summary>
    private static string HourlyDemand()
    {
        var random = new Random(5);
        var csv = new StringBuilder("when,temperature,demand\n");
        var start = new DateTime(2025, 3, 3);
        for (var hour = 0; hour < 56 * 24; hour++)
        {
            var when = start.AddHours(hour);
            var temperature = random.NextDouble() * 30;
            csv.Append(CultureInfo.InvariantCulture, $"{when:yyyy-MM-dd HH:mm:ss},{temperature:F1},{Demand(when, temperature) + (random.NextDouble() - 0.5) * 10:F2}\n");
        }
        return csv.ToString();
    }

    private static double Demand(DateTime when, double temperature)
    {
        var weekday = when.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);
        var peaks = Math.Exp(-Math.Pow(when.Hour - 8, 2) / 4) + Math.Exp(-Math.Pow(when.Hour - 17, 2) / 4);
        return 50 + (weekday ? 60 * peaks : 10) + 0.5 * temperature;
    }

    [Fact]
    public async Task HourlyDemand_IsLearntFromTheTimestamp_AndServedFromADateString()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var csv = HourlyDemand();
        await host.UploadAsync("demand", "model.json", $$"""{"label":"demand","task":"regression",{{Trainers}}}""");
        await host.UploadAsync("demand", "hours.csv", csv);

        var dated = await host.WaitForModelAsync("demand", m => m["aliases"]?["production"] is not null, TimeSpan.FromMinutes(3));

        // The temperature alone explains under a tenth of the variance: the rest is the hour and the weekday.
        var r2 = dated["versions"]!.AsArray().Single()!["testMetrics"]!["r2"]!.GetValue<double>();
        Assert.True(r2 > 0.9, $"r2 {r2}");
        var card = await host.Client.GetStringAsync("/api/models/demand/versions/v1/card.md");
        Assert.Contains("`when` (datetime)", card, StringComparison.Ordinal);
        // Its seven parts are the model inputs of one feature, shuffled as one column, which the model relies on most
        // (shuffling it raises the rmse most).
        Assert.Contains("each feature column shuffled in the test rows", card, StringComparison.Ordinal);
        Assert.Matches(@"\| 1 \| `when` \| \+[0-9.]+ \| [0-9.]+ \|\n", card);

        // A weekday at 8:00 against 3:00 and a Sunday at 8:00, as the training rows had them: the peak is served.
        var answer = await PredictAsync(host, """{"rows":[{"when":"2025-04-02 08:00:00","temperature":15},{"when":"2025-04-02 03:00:00","temperature":15},{"when":"2025-04-06T08:00:00","temperature":15}]}""");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var scores = (await answer.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray().Select(p => p!["score"]!.GetValue<double>()).ToArray();
        Assert.InRange(scores[0], Demand(new DateTime(2025, 4, 2, 8, 0, 0), 15) - 10, Demand(new DateTime(2025, 4, 2, 8, 0, 0), 15) + 10);
        Assert.True(scores[0] - scores[1] > 40, $"8:00 {scores[0]}, 3:00 {scores[1]}");
        Assert.True(scores[0] - scores[2] > 40, $"weekday {scores[0]}, Sunday {scores[2]}");

        // A date the ingestion reader could not read is refused, naming the field and the row.
        var unreadable = await PredictAsync(host, """{"rows":[{"when":"next Tuesday","temperature":15}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, unreadable.StatusCode);
        var problem = await unreadable.Content.ReadAsStringAsync();
        Assert.Contains("rows[0].when", problem, StringComparison.Ordinal);
        Assert.Contains("expected a date", problem, StringComparison.Ordinal);

        // A missing date is filled in by the model and named in the row's answer.
        var missing = await PredictAsync(host, """{"rows":[{"temperature":15}]}""");
        Assert.Equal(HttpStatusCode.OK, missing.StatusCode);
        var prediction = (await missing.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray().Single()!;
        Assert.Equal(["when"], prediction["imputed"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.True(double.IsFinite(prediction["score"]!.GetValue<double>()));

        // Live traffic between midnight and 6:00 only. The drift check (its window one day by default) compares the
        // timestamp by the hour of the day, read as the model reads it, and finds it drifted; a day's traffic cannot show
        // a week's or a year's spread, so weekday and month are not compared, and the report's note says so.
        var night = new JsonArray([.. Enumerable.Range(0, 240).Select(i => (JsonNode)new JsonObject
        {
            ["when"] = $"2025-05-{1 + i % 7:00} {i % 6:00}:30:00",
            ["temperature"] = i % 30,
        })]);
        Assert.Equal(HttpStatusCode.OK, (await PredictAsync(host, new JsonObject { ["rows"] = night }.ToJsonString())).StatusCode);
        await Monitoring.MonitoringClient.LoggedAsync(host, "demand");
        var check = await host.Client.PostAsync("/api/models/demand/drift/check", null);
        var report = (await check.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(check.IsSuccessStatusCode, report.ToJsonString());
        var hour = report["features"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "when.hour")!;
        Assert.True(hour["drifted"]!.GetValue<bool>(), hour.ToJsonString());
        Assert.DoesNotContain(report["features"]!.AsArray(), f => f!["name"]!.GetValue<string>() is "when.weekday" or "when.month");
        Assert.Contains(report["notes"]!.AsArray(), n => n!.GetValue<string>().StartsWith("when: a datetime column; compared by hour;", StringComparison.Ordinal));
        // Its histogram is not in the training profile: a 404 that says so, not a 500.
        var histogram = await host.Client.GetAsync("/api/models/demand/drift/histogram?feature=when.hour");
        Assert.Equal(HttpStatusCode.NotFound, histogram.StatusCode);
        Assert.Contains("part of a date column", await histogram.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> PredictAsync(TestHost host, string body) =>
        host.Client.PostAsync("/api/models/demand/predict", new StringContent(body, Encoding.UTF8, "application/json"));
}
