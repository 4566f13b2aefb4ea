using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Monitoring;

/// <summary>
/// A local host (drift timer off) with the taxi model trained on the first 3,000 rows of the taxi slice and in
/// production, shared by the drift tests of one class. Traffic is what the prediction log would hold: rows sent to the
/// real predict route, each logged with the answer it got, written in the log's own layout (<see cref="MonitoringPaths"/>,
/// <see cref="JsonLines"/>).
/// </summary>
public sealed class TaxiDriftModel(AzuriteFixture azurite) : IAsyncLifetime
{
    public const string Model = "taxi";
    public const int TrainingRows = 3000;
    public const string Spec = """{"label":"fare_amount","task":"regression"}""";

    public TestHost Host { get; private set; } = null!;

    public AzuriteFixture Azurite => azurite;

    public async Task InitializeAsync()
    {
        // The tests write the prediction log themselves (one format owner: MonitoringPaths, JsonLines); the writer would log the same requests again.
        Host = await TestHost.StartAsync(azurite, new() { ["Pipeline:PredictionLog:Enabled"] = "false" });
        await Host.UploadAsync(Model, "model.json", Spec);
        await Host.UploadAsync(Model, "taxi.csv", TestData.TaxiSlice(TrainingRows));
        await Host.WaitForModelAsync(Model, m => m["aliases"]?["production"] is not null, TimeSpan.FromMinutes(4));
    }

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
    }

    /// <summary>
    /// Forgets the model's logged traffic, drift reports and drift state, and sets its spec (drift section as given, and
    /// the seed when one is given: a spec that trains something else than production; columns made sensitive after training).
    /// </summary>
    public async Task ResetAsync(string drift = "{}", int? seed = null, IReadOnlyList<string>? sensitive = null)
    {
        await foreach (var blob in Host.Storage.Monitoring.GetBlobsAsync(BlobTraits.None, BlobStates.None, Model + "/", CancellationToken.None))
        {
            await Host.Storage.Monitoring.DeleteBlobIfExistsAsync(blob.Name);
        }
        var spec = JsonNode.Parse(Spec)!.AsObject();
        spec["drift"] = JsonNode.Parse(drift);
        if (seed is { } given) spec["seed"] = given;
        if (sensitive is not null) spec["sensitive"] = new JsonArray([.. sensitive.Select(c => JsonValue.Create(c))]);
        var response = await Host.Client.PutAsync($"/api/models/{Model}/spec", ApiAssert.Json(spec.ToJsonString()));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Rows of the taxi slice (data rows <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> − 1) as predict rows, label left out.</summary>
    public static List<JsonObject> Rows(int from, int count)
    {
        var lines = File.ReadLines(RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv")).ToList();
        var header = lines[0].Split(',');
        return [.. lines.Skip(1 + from).Take(count).Select(line =>
        {
            var cells = line.Split(',');
            var row = new JsonObject();
            for (var i = 0; i < header.Length; i++)
            {
                if (header[i] == "fare_amount") continue;
                row[header[i]] = double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : JsonValue.Create(cells[i]);
            }
            return row;
        })];
    }

    /// <summary><paramref name="count"/> rows drawn with replacement from the training rows (a fixed seed).</summary>
    public static List<JsonObject> ResampledTrainingRows(int count, int seed = 7)
    {
        var training = Rows(0, TrainingRows);
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => training[random.Next(training.Count)].DeepClone().AsObject())];
    }

    /// <summary>
    /// Held-out rows after the training rows with trips three times as long and as far, every vendor "VTS" and every
    /// payment "CSH": four of the six features moved.
    /// </summary>
    public static List<JsonObject> ShiftedRows(int count)
    {
        var rows = Rows(TrainingRows, count);
        foreach (var row in rows)
        {
            row["trip_distance"] = row["trip_distance"]!.GetValue<double>() * 3;
            row["trip_time_in_secs"] = row["trip_time_in_secs"]!.GetValue<double>() * 3;
            row["vendor_id"] = "VTS";
            row["payment_type"] = "CSH";
        }
        return rows;
    }

    /// <summary>The fares (labels) of data rows <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> − 1.</summary>
    public static List<double> Fares(int from, int count) =>
        [.. File.ReadLines(RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv")).Skip(1 + from).Take(count)
            .Select(line => double.Parse(line.Split(',')[^1], CultureInfo.InvariantCulture))];

    /// <summary>
    /// Sends the rows to the predict route (batches of 500) and logs each with its answer, a minute ago; returns each
    /// row's request id and index, in order.
    /// </summary>
    public async Task<List<(string RequestId, int Row)>> LogTrafficAsync(IReadOnlyList<JsonObject> rows)
    {
        var ids = new List<(string RequestId, int Row)>();
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var window = new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, at.Minute, 0, TimeSpan.Zero);
        var sequence = 0;
        foreach (var batch in rows.Chunk(500))
        {
            var body = new JsonObject { ["rows"] = new JsonArray([.. batch.Select(r => r.DeepClone())]) };
            var response = await Host.Client.PostAsync($"/api/models/{Model}/predict", ApiAssert.Json(body.ToJsonString()));
            response.EnsureSuccessStatusCode();
            var answer = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            var version = answer["modelVersion"]!.GetValue<string>();
            var requestId = answer["requestId"]!.GetValue<string>();
            var predictions = answer["predictions"]!.AsArray();
            ids.AddRange(batch.Select((_, i) => (requestId, i)));
            var lines = batch.Select((row, i) => JsonSerializer.Serialize(new PredictionLogEntry
            {
                RequestId = requestId,
                Row = i,
                Time = at,
                ModelVersion = version,
                Inputs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(row.ToJsonString())!,
                Output = predictions[i].Deserialize<RowPrediction>(JsonLines.Options)!,
            }, JsonLines.Options));
            var blob = MonitoringPaths.PredictionLogBlob(Model, version, window, "tests", sequence++, compressed: false);
            await Host.Storage.Monitoring.GetBlobClient(blob).UploadAsync(BinaryData.FromString(string.Join('\n', lines) + "\n"), overwrite: true);
        }
        return ids;
    }

    /// <summary>Sends ground truth for logged rows through the feedback route.</summary>
    public async Task SendFeedbackAsync(IReadOnlyList<(string RequestId, int Row)> ids, IReadOnlyList<double> labels)
    {
        foreach (var chunk in ids.Zip(labels).Chunk(500))
        {
            var items = new JsonArray([.. chunk.Select(c => (JsonNode)new JsonObject { ["requestId"] = c.First.RequestId, ["row"] = c.First.Row, ["label"] = c.Second })]);
            var response = await Host.Client.PostAsync($"/api/models/{Model}/feedback", ApiAssert.Json(new JsonObject { ["items"] = items }.ToJsonString()));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>Moves the last drifted check that counted a day back, as if the check schedule had come due since.</summary>
    public async Task AsIfTheCheckScheduleCameDueAsync()
    {
        var store = Host.Services.GetRequiredService<DriftStore>();
        var (state, etag) = await store.GetStateAsync(Model, CancellationToken.None);
        await store.SetStateAsync(Model, state with { LastCountedAt = state.LastCountedAt?.AddDays(-1) }, etag, CancellationToken.None);
    }

    public async Task<JsonObject> CheckAsync()
    {
        var response = await Host.Client.PostAsync($"/api/models/{Model}/drift/check", null);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    public ModelRegistry Registry => Host.Services.GetRequiredService<ModelRegistry>();
}
