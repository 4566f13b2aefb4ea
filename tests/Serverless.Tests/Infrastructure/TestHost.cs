using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Storage;
using Serverless.LocalHost;
using Serverless.Testing;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// The local host started in-process on a loopback port Kestrel chooses, against the Azurite fixture, with containers and tables
/// of its own so that hosts of parallel tests never see each other's blobs.
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestHost(WebApplication app, string baseUrl, string suffix)
    {
        _app = app;
        Suffix = suffix;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(100) };
    }

    public HttpClient Client { get; }
    public string Suffix { get; }
    public IServiceProvider Services => _app.Services;
    public PipelineStorage Storage => _app.Services.GetRequiredService<PipelineStorage>();

    /// <param name="configure">Changes the host's services before it is built.</param>
    /// <param name="map">Maps routes of the test's own on the app before it starts.</param>
    public static async Task<TestHost> StartAsync(AzuriteFixture azurite, Dictionary<string, string>? settings = null, Action<WebApplicationBuilder>? configure = null,
        Action<WebApplication>? map = null)
    {
        var suffix = IsolatedLayout.NewSuffix();
        var config = IsolatedLayout.Settings(azurite.ConnectionString, suffix);
        // Port 0: Kestrel binds a free port itself, so no other process can take it between choosing it and binding it.
        config["urls"] = "http://127.0.0.1:0";
        config["Pipeline:Durable:PartitionCount"] = "2";
        config["Pipeline:BlobTrigger:PollInterval"] = "00:00:00.300";
        config["Logging:LogLevel:Default"] = "Warning";
        // Dozens of hosts start in one test run: the start-up warm-up of ML.NET is tested on its own.
        config["Pipeline:Training:WarmUp"] = "false";
        // The drift timer would add checks (and audit records) to other tests' models at wall-clock times; it is tested on its own.
        config["Pipeline:Drift:Timer"] = "false";
        foreach (var (key, value) in settings ?? []) config[key] = value;
        var args = config.Select(kv => $"--{kv.Key}={kv.Value}").ToArray();
        var app = LocalHostApp.Create(args, configure);
        map?.Invoke(app);
        await app.StartAsync();
        return new TestHost(app, app.Urls.First(), suffix);
    }

    /// <summary>Uploads a file to the host's incoming container as <c>{model}/{name}</c>.</summary>
    public async Task UploadAsync(string model, string name, Stream content)
    {
        await Storage.EnsureCreatedAsync();
        await Storage.Incoming.GetBlobClient($"{model}/{name}").UploadAsync(content, overwrite: true);
    }

    public Task UploadAsync(string model, string name, string content) =>
        UploadAsync(model, name, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)));

    /// <summary>Polls <c>GET /api/models/{model}</c> until <paramref name="done"/> holds; fails after the timeout.</summary>
    public async Task<JsonObject> WaitForModelAsync(string model, Func<JsonObject, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var response = await Client.GetAsync($"/api/models/{model}");
            if (response.IsSuccessStatusCode)
            {
                last = await response.Content.ReadFromJsonAsync<JsonObject>();
                if (last is not null && done(last)) return last;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Model '{model}' did not reach the expected state within {timeout}; last seen: {last?.ToJsonString() ?? "404"}");
    }

    /// <summary>Polls <c>GET /api/orchestrations/{id}</c> until <paramref name="done"/> holds; fails after the timeout.</summary>
    public async Task<JsonObject> WaitForRunAsync(string instanceId, Func<JsonObject, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var response = await Client.GetAsync($"/api/orchestrations/{instanceId}");
            if (response.IsSuccessStatusCode)
            {
                last = await response.Content.ReadFromJsonAsync<JsonObject>();
                if (last is not null && done(last)) return last;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Run {instanceId} did not reach the expected state within {timeout}; last seen: {last?.ToJsonString() ?? "404"}");
    }

    /// <summary>The instance ids of a model's training runs (the newest 100), sorted.</summary>
    public async Task<List<string>> RunIdsAsync(string model)
    {
        var runs = await Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations?model={model}&top=100");
        return [.. runs!["runs"]!.AsArray().Select(r => r!["instanceId"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    /// <summary>Polls until <paramref name="count"/> blobs under the prefix end with <paramref name="suffix"/>; fails after the timeout.</summary>
    public async Task<IReadOnlyList<string>> WaitForBlobsAsync(Azure.Storage.Blobs.BlobContainerClient container, string prefix, TimeSpan timeout, string suffix = "", int count = 1)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var names = new List<string>();
            await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, CancellationToken.None)) names.Add(blob.Name);
            if (names.Count(n => n.EndsWith(suffix, StringComparison.Ordinal)) >= count) return names;
            await Task.Delay(200);
        }
        throw new TimeoutException($"No blob under {container.Name}/{prefix} within {timeout}.");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
