using Serverless.Core.Storage;
using Serverless.Testing;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// Azurite for the whole test run (in memory, free ports), started once. Each test uses its own model names, containers
/// or table prefix, so tests share the emulator without seeing each other's data.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    private AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite has not started.");

    public int BlobPort => Azurite.BlobPort;
    public int QueuePort => Azurite.QueuePort;
    public int TablePort => Azurite.TablePort;
    public string ConnectionString => Azurite.ConnectionString;

    /// <summary>Storage options for a test: the fixture's emulator and a table prefix of the test's own.</summary>
    public PipelineStorageOptions Options(string tablePrefix = "mlops") => new() { ConnectionString = ConnectionString, TablePrefix = tablePrefix };

    public PipelineStorage CreateStorage(string tablePrefix = "mlops") => new(Microsoft.Extensions.Options.Options.Create(Options(tablePrefix)));

    /// <summary>Storage whose every endpoint is a loopback port nothing listens on: a storage account that cannot be reached.</summary>
    public PipelineStorage CreateUnreachableStorage()
    {
        var options = Options();
        options.ConnectionString = System.Text.RegularExpressions.Regex.Replace(options.ConnectionString, @"127\.0\.0\.1:\d+/", $"127.0.0.1:{FreePort()}/");
        return new(Microsoft.Extensions.Options.Options.Create(options));
    }

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null) await _azurite.DisposeAsync();
    }

    public static int FreePort() => AzuriteProcess.FreePort();
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
