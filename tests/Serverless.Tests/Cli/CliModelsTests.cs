using Microsoft.Extensions.DependencyInjection;
using Serverless.Cli;
using Serverless.Core.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Cli;

/// <summary><c>mlops models</c> lists a model without a version too, saying what it has instead.</summary>
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

        var (exit, output) = await CliRunner.RunAsync("models", "--host", host.Client.BaseAddress!.ToString());

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains($"data {accepted.DatasetVersion}, no version yet: 'mlops show clidata' says why", output);
        Assert.Contains("1 file(s) quarantined: 'mlops show clirefused' says why", output);
    }
}
