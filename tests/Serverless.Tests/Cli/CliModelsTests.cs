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

        var (exit, output) = await CliRunner.RunAsync("models", "--host", host.Client.BaseAddress!.ToString());
        var (shown, show) = await CliRunner.RunAsync("show", "clispec", "--host", host.Client.BaseAddress!.ToString());

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains($"data {accepted.DatasetVersion}, no version yet: 'mlops show clidata' says why", output);
        Assert.Contains("1 file(s) quarantined: 'mlops show clirefused' says why", output);
        Assert.Contains("a spec (version 1), no data yet", output);
        Assert.Equal(ExitCodes.Ok, shown);
        Assert.Contains("a spec is in force, version 1", show);
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
