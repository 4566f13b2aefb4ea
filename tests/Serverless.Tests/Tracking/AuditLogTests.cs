using Microsoft.Extensions.Options;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Tracking;

/// <summary>The audit log on storage that was unreachable when the process first used it, and came back.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuditLogTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task RecordAsync_FirstAccessFailedWhileStorageWasDown_RecordsOnceStorageIsBack()
    {
        await using var proxy = new StorageProxy(azurite, azurite.TablePort);
        var options = azurite.Options("audit" + Guid.NewGuid().ToString("N")[..8]);
        options.ConnectionString = proxy.Through(options.ConnectionString);
        var audit = new AuditLog(new PipelineStorage(Options.Create(options)));
        await Assert.ThrowsAnyAsync<Exception>(() => audit.RecordAsync(AuditActions.Promote, "down", "test", null, CancellationToken.None));

        proxy.Start();
        await audit.RecordAsync(AuditActions.Promote, "back", "test", null, CancellationToken.None);

        var records = await audit.ListAsync("back", 10, CancellationToken.None);
        Assert.Equal(AuditActions.Promote, Assert.Single(records).Action);
    }
}
