using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Cli;
using Serverless.Core.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Cli;

/// <summary><c>mlops models</c> lists a model without a version too, saying what it has instead; <c>mlops audit</c> of a model that does not exist says so.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CliModelsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Models_WithOnlyDataOrOnlyARefusedFile_AreListedSayingWhatTheyHave()
    {
        // The host's own ingestor, without the blob trigger (and so without training).
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        var ingestor = host.Services.GetRequiredService<DatasetIngestor>();
        await host.UploadAsync("clidata", "a.csv", TestData.TaxiSlice(100));
        var accepted = await ingestor.IngestAsync("clidata/a.csv", CancellationToken.None);
        await host.UploadAsync("clirefused", "empty.csv", "a,b,label\n");
        await ingestor.IngestAsync("clirefused/empty.csv", CancellationToken.None);
        using var put = await host.Client.PutAsync("/api/models/clispec/spec", new StringContent("""{"label":"y"}""", System.Text.Encoding.UTF8, "application/json"));
        put.EnsureSuccessStatusCode();

        await host.UploadAsync("clirows", "a.csv", TestData.TaxiSlice(100) + "1,2\n");
        await ingestor.IngestAsync("clirows/a.csv", CancellationToken.None);
        // A file dropped under a folder that is no model name: quarantined apart, and the list still answers.
        await host.UploadAsync("Upper", "a.csv", TestData.TaxiSlice(10));
        await ingestor.IngestAsync("Upper/a.csv", CancellationToken.None);

        var (exit, output) = await CliRunner.RunAsync("models", "--host", host.Client.BaseAddress!.ToString());
        var (shown, show) = await CliRunner.RunAsync("show", "clispec", "--host", host.Client.BaseAddress!.ToString());
        var (_, rows) = await CliRunner.RunAsync("show", "clirows", "--host", host.Client.BaseAddress!.ToString());

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains($"data {accepted.DatasetVersion}, no version yet: 'mlops show clidata' says why", output);
        Assert.Contains("1 file(s) quarantined: 'mlops show clirefused' says why", output);
        Assert.Contains("a spec (version 1), no data yet", output);
        Assert.Equal(ExitCodes.Ok, shown);
        Assert.Contains("a spec is in force, version 1", show);
        Assert.Contains("100 rows (1 rejected: GET /api/models/clirows/datasets says why)", rows);
        Assert.Contains($"files dropped under folders that are no valid model name, quarantined: GET /api/models/{DropZoneNames.InvalidFolder}/quarantine", output);
        var invalid = await host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/api/models/{DropZoneNames.InvalidFolder}/quarantine");
        Assert.Contains("Upper/a.csv", invalid!.ToJsonString());
    }
    [Fact]
    public async Task RunsRegisterAndArchive_FromTheCommandLine_ListTheCandidatesMakeAVersionOfOneAndArchiveIt()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var url = host.Client.BaseAddress!.ToString();
        await host.UploadAsync("cliregistry", "model.json", """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree"},{"name":"Sdca"}]}""");
        await host.UploadAsync("cliregistry", "data.csv", TestData.TaxiSlice(1000));
        var datasets = await host.WaitForBlobsAsync(host.Storage.Datasets, "cliregistry/", TimeSpan.FromMinutes(3), "/manifest.json");
        var dataset = datasets.First(n => n.EndsWith("/manifest.json", StringComparison.Ordinal)).Split('/')[1];
        await host.WaitForRunAsync(Serverless.Orchestrations.DropZone.TrainingInstanceId("cliregistry", dataset),
            r => r["runtimeStatus"]!.GetValue<string>() == "Completed", TimeSpan.FromMinutes(3));

        var (listed, runs) = await CliRunner.RunAsync("runs", "cliregistry", "--sort", "RMSE", "--host", url);
        var all = (await host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/api/models/cliregistry/runs"))!["runs"]!.AsArray();
        var loser = all.Single(r => r!["version"] is null)!["runId"]!.GetValue<string>();
        var (registered, register) = await CliRunner.RunAsync("register", "cliregistry", loser, "--reason", "cheaper to serve", "--host", url);
        var versions = (await host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/api/models/cliregistry"))!["versions"]!.AsArray();
        var (twice, again) = await CliRunner.RunAsync("register", "cliregistry", loser, "--host", url);
        var (archived, archive) = await CliRunner.RunAsync("archive", "cliregistry", "2", "--reason", "kept for the record", "--host", url);
        var (archivedAgain, archiveAgain) = await CliRunner.RunAsync("archive", "cliregistry", "v2", "--host", url);
        var (badRun, badRunOutput) = await CliRunner.RunAsync("register", "cliregistry", "../x", "--host", url);

        Assert.Equal(ExitCodes.Ok, listed);
        Assert.Contains("candidate runs (best first by rmse; 2 of 2)", runs);
        Assert.Contains(loser, runs);
        Assert.Contains("v1", runs);
        var rmse = all.Single(r => r!["runId"]!.GetValue<string>() == loser)!["validationMetrics"]!["rmse"]!.GetValue<double>();
        // As the API gives it, as every command prints a metric (rounding it again would disagree with the card).
        Assert.Contains($"rmse {rmse.ToString(System.Globalization.CultureInfo.InvariantCulture)}", runs);
        Assert.Equal(ExitCodes.Ok, registered);
        Assert.Contains($"cliregistry: run {loser} registered as v2", register);
        Assert.Contains("mlops promote cliregistry v2 --force --reason", register);
        Assert.Equal("training", versions.Single(v => v!["version"]!.GetValue<string>() == "v1")!["statusChanged"]!["by"]!.GetValue<string>());
        Assert.StartsWith($"Run {loser} registered by hand", versions.Single(v => v!["version"]!.GetValue<string>() == "v2")!["statusChanged"]!["reason"]!.GetValue<string>());
        Assert.Equal(ExitCodes.Error, twice);
        Assert.Contains("409", again);
        Assert.Equal(ExitCodes.Ok, archived);
        Assert.Contains("cliregistry: v2 archived (", archive);
        Assert.Contains(": kept for the record)", archive);
        Assert.True(archive.Contains("aliases: production v1", StringComparison.Ordinal), archive);
        Assert.Contains("cliregistry: v2 was archived already", archiveAgain);
        Assert.Equal(ExitCodes.Usage, badRun);
        Assert.Contains("'../x' is not a run id", badRunOutput);
        var audit = await host.Services.GetRequiredService<Serverless.Core.Tracking.AuditLog>().ListAsync("cliregistry", 50, CancellationToken.None);
        Assert.Contains(audit, a => a.Action == Serverless.Core.Tracking.AuditActions.Archive && a.Reason == "kept for the record");
    }

    [Fact]
    public async Task TrainTerminateAndDrift_FromTheCommandLine_StartStopAndCheck_WithTheirReasonsAudited()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        var url = host.Client.BaseAddress!.ToString();
        await host.UploadAsync("clitrain", "a.csv", TestData.TaxiSlice(300));
        await host.Services.GetRequiredService<DatasetIngestor>().IngestAsync("clitrain/a.csv", CancellationToken.None);

        var (trained, train) = await CliRunner.RunAsync("train", "clitrain", "--reason", "try the new spec", "--host", url);
        var (missing, none) = await CliRunner.RunAsync("train", "clitrain", "--dataset", "ds-0000000000000000", "--host", url);
        var (drifted, drift) = await CliRunner.RunAsync("drift", "clitrain", "--host", url);

        Assert.Equal(ExitCodes.Ok, trained);
        var id = System.Text.RegularExpressions.Regex.Match(train, @"training run (train-clitrain-[0-9a-f]{32}) started").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(id), train);
        Assert.Equal(ExitCodes.Error, missing);
        Assert.Contains("no dataset version 'ds-0000000000000000'", none);
        Assert.Equal(ExitCodes.Ok, drifted);
        Assert.Contains("clitrain: noProductionVersion: Model 'clitrain' has no production version", drift);

        var (stopped, stop) = await CliRunner.RunAsync("terminate", id, "--reason", "not now", "--host", url);
        Assert.Equal(ExitCodes.Ok, stopped);
        Assert.Contains($"{id}: terminated", stop);
        var (again, twice) = await CliRunner.RunAsync("terminate", id, "--host", url);
        if (again != ExitCodes.Ok) Assert.Contains("409", twice);
        // The spec: none yet, then one set from a file (checked by the host, every bad field named), with its history.
        var (_, none0) = await CliRunner.RunAsync("spec", "clitrain", "--host", url);
        Assert.Contains("clitrain: no spec; everything is inferred", none0);
        var good = Path.GetTempFileName();
        var bad = Path.GetTempFileName();
        await File.WriteAllTextAsync(good, """{"label":"fare_amount","task":"regression"}""");
        await File.WriteAllTextAsync(bad, """{"lable":"fare_amount","trainers":[{"name":"XGBoost"}]}""");
        var (refused, refusal) = await CliRunner.RunAsync("spec", "clitrain", "--set", bad, "--host", url);
        var (set, shown) = await CliRunner.RunAsync("spec", "clitrain", "--set", good, "--reason", "name the label", "--host", url);
        File.Delete(good);
        File.Delete(bad);
        Assert.Equal(ExitCodes.Error, refused);
        Assert.Contains("did you mean 'label'", refusal);
        Assert.Contains($"{bad}: 400", refusal);
        Assert.Contains("unknown trainer 'XGBoost'", refusal);
        // Each problem once: the detail names every field's problems, so they are not listed again after it.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(refusal, "unknown trainer 'XGBoost'"));
        Assert.Equal(ExitCodes.Ok, set);
        Assert.Contains("clitrain: spec version 1 now in force", shown);
        Assert.Contains(": name the label", shown);
        Assert.Contains("\"label\": \"fare_amount\"", shown);

        var audit = await host.Services.GetRequiredService<Serverless.Core.Tracking.AuditLog>().ListAsync("clitrain", 20, CancellationToken.None);
        Assert.Contains(audit, a => a.Action == Serverless.Core.Tracking.AuditActions.TrainRequested && a.Reason == "try the new spec");
        Assert.Contains(audit, a => a.Action == Serverless.Core.Tracking.AuditActions.Terminate && a.Reason == "not now");
    }

    [Fact]
    public async Task Audit_OfAModelThatDoesNotExist_ExitsOneSayingSo_AndOfOneThatExists_ListsIt()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        var url = host.Client.BaseAddress!.ToString();

        var (exit, output) = await CliRunner.RunAsync("audit", "--model", "nosuchmodel", "--host", url);

        Assert.Equal(ExitCodes.Error, exit);
        Assert.Contains("there is no model 'nosuchmodel'", output);

        // A model that exists (here by its spec alone) lists its records and exits 0.
        using var put = await host.Client.PutAsync("/api/models/auditspec/spec", new StringContent("""{"label":"fare_amount"}""", System.Text.Encoding.UTF8, "application/json"));
        put.EnsureSuccessStatusCode();
        var (known, listed) = await CliRunner.RunAsync("audit", "--model", "auditspec", "--host", url);
        Assert.Equal(ExitCodes.Ok, known);
        Assert.Contains(Serverless.Core.Tracking.AuditActions.SpecChanged, listed);
    }
}
