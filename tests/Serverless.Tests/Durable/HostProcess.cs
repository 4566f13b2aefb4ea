using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Testing;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Durable;

/// <summary>
/// The local host as a process of its own (the built Serverless.LocalHost.dll), on a storage layout and task hub that
/// several processes share: for the tests that kill a host with SIGKILL or run two hosts on one task hub.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HostProcess(Process process, string baseUrl)
    {
        _process = process;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Client { get; }
    public int Id => _process.Id;
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Settings that put every host started with the same <paramref name="suffix"/> on one storage layout and task hub.</summary>
    public static Dictionary<string, string> SharedSettings(AzuriteFixture azurite, string suffix)
    {
        var settings = IsolatedLayout.Settings(azurite.ConnectionString, suffix);
        settings["Pipeline:BlobTrigger:PollInterval"] = "00:00:00.300";
        return settings;
    }

    public static async Task<HostProcess> StartAsync(Dictionary<string, string> settings)
    {
        var dll = Path.Combine(RepositoryPaths.Root, "localhost", "bin", "Release", "net10.0", "Serverless.LocalHost.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build the local host first (dotnet build -c Release): {dll} is missing.");
        var url = $"http://127.0.0.1:{AzuriteFixture.FreePort()}";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add($"--urls={url}");
        foreach (var (key, value) in settings) start.ArgumentList.Add($"--{key}={value}");
        var process = Process.Start(start)!;
        var host = new HostProcess(process, url);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (host._output) host._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (host._output) host._output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"The host exited with {process.ExitCode}:\n{host.Output}");
            try
            {
                if ((await host.Client.GetAsync("/api/health")).IsSuccessStatusCode) return host;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        await host.DisposeAsync();
        throw new TimeoutException($"The host did not answer within 60 s:\n{host.Output}");
    }

    /// <summary>SIGKILL: no shutdown code runs, leases and messages are left as they were.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, as Ctrl-C or a service manager stops a host; true when it exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(bound.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task<JsonObject?> RunAsync(string instanceId)
    {
        var response = await Client.GetAsync($"/api/orchestrations/{instanceId}");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
    }

    /// <summary>Polls the run until <paramref name="done"/> holds; fails with the last status and the host's output.</summary>
    public async Task<JsonObject> WaitForRunAsync(string instanceId, Func<JsonObject, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await RunAsync(instanceId);
            if (last is not null && done(last)) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"Run {instanceId} did not reach the expected state within {timeout}; last seen: {last?.ToJsonString() ?? "404"}\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
