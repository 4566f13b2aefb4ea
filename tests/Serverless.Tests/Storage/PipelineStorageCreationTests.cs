using Microsoft.Extensions.Options;
using Serverless.Core.Storage;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Storage;

/// <summary>The containers created on first use, by a process that first met the storage account unreachable.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PipelineStorageCreationTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task EnsureCreatedAsync_FirstAttemptFailedWhileStorageWasDown_CreatesTheContainersOnceStorageIsBack()
    {
        await using var proxy = new StorageProxy(azurite);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var options = azurite.Options();
        options.ConnectionString = proxy.Through(options.ConnectionString);
        (options.IncomingContainer, options.DatasetsContainer, options.QuarantineContainer, options.ModelsContainer, options.MonitoringContainer) =
            ($"incoming-{suffix}", $"datasets-{suffix}", $"quarantine-{suffix}", $"models-{suffix}", $"monitoring-{suffix}");
        var storage = new PipelineStorage(Options.Create(options));
        await Assert.ThrowsAnyAsync<Exception>(() => storage.EnsureCreatedAsync());

        proxy.Start();
        await storage.EnsureCreatedAsync();

        Assert.True(await storage.Models.ExistsAsync());
    }
}
