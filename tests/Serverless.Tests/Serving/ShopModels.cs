using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Registry;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Serving;

/// <summary>
/// A local host with the shop models trained and in production, shared by the tests of one class (training once is
/// what makes a few dozen serving tests affordable). Tests that change state use model names of their own.
/// </summary>
public class ShopModels(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromMinutes(4);

    public TestHost Host { get; private set; } = null!;

    public AzuriteFixture Azurite => azurite;

    public ModelRegistry Registry => Host.Services.GetRequiredService<ModelRegistry>();

    /// <summary>The models this fixture trains.</summary>
    protected virtual IReadOnlyList<string> Models => [ShopData.Spend, ShopData.Churn, ShopData.Tier];

    public async Task InitializeAsync()
    {
        Host = await TestHost.StartAsync(azurite);
        var csv = ShopData.Csv(600);
        foreach (var model in Models)
        {
            await Host.UploadAsync(model, "model.json", ShopData.Specs[model]);
            await Host.UploadAsync(model, "shop.csv", csv);
        }
        foreach (var model in Models)
        {
            await Host.WaitForModelAsync(model, m => m["aliases"]?["production"] is not null, TrainingTimeout);
        }
    }

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
    }

    /// <summary>Registers two copies (v1 and v2) as versions of <paramref name="model"/> and points production and staging at the versions named.</summary>
    public async Task TwoVersionsAsync(string model, string production, string staging)
    {
        await RegisterCopyAsync(model);
        await RegisterCopyAsync(model);
        await Registry.SetAliasAsync(model, ModelRegistry.Production, production, "test", "start", CancellationToken.None);
        await Registry.SetAliasAsync(model, ModelRegistry.Staging, staging, "test", "start", CancellationToken.None);
    }

    /// <summary>
    /// A second host on the shop's containers whose blobs go through <paramref name="proxy"/> (started here): stopping the
    /// proxy is a storage outage for that host alone. Its own task hub, no blob trigger; <paramref name="settings"/> on top.
    /// </summary>
    public async Task<TestHost> StartHostThroughAsync(StorageProxy proxy, params (string Key, string Value)[] settings)
    {
        proxy.Start();
        var config = Serverless.Testing.IsolatedLayout.Settings(proxy.ConnectionString, Host.Suffix);
        config["Pipeline:Durable:TaskHubName"] = Serverless.Testing.IsolatedLayout.TaskHub(Serverless.Testing.IsolatedLayout.NewSuffix());
        config["Pipeline:BlobTrigger:Enabled"] = "false";
        foreach (var (key, value) in settings) config[key] = value;
        return await TestHost.StartAsync(azurite, config);
    }

    /// <summary>
    /// Registers a copy of <paramref name="source"/>'s v1 as the next version of <paramref name="model"/> (a model of the
    /// test's own, so tampering with it or moving its aliases touches no other test), without training.
    /// </summary>
    public async Task<ModelManifest> RegisterCopyAsync(string model, string source = ShopData.Spend)
    {
        var manifest = await Registry.GetManifestAsync(source, "v1", CancellationToken.None) ?? throw new InvalidOperationException($"{source} has no v1.");
        var draft = manifest with { Model = model, RunId = Guid.NewGuid().ToString("N"), OrchestrationId = "copy-" + Guid.NewGuid().ToString("N") };
        return await Registry.RegisterAsync(draft, manifest.ModelBlob, m => $"# {m.Model} {m.Version}", CancellationToken.None);
    }
}

/// <summary>Only the regression model of the shop data (one training).</summary>
public sealed class ShopSpendModel(AzuriteFixture azurite) : ShopModels(azurite)
{
    protected override IReadOnlyList<string> Models => [ShopData.Spend];
}

/// <summary>Only the churn model, trained as a blend of the default candidates (one training).</summary>
public sealed class ShopBlendModel(AzuriteFixture azurite) : ShopModels(azurite)
{
    protected override IReadOnlyList<string> Models => [ShopData.ChurnBlend];
}
