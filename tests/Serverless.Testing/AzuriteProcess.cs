using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Serverless.Testing;

/// <summary>
/// Azurite from the repository's node_modules, in memory, on free loopback ports: the real storage emulator for tests
/// and benchmarks. Disposing it kills the process.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private readonly Process _process;

    private AzuriteProcess(Process process, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    /// <summary>The checkout: the first folder above this assembly that holds <c>Serverless.sln</c>.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Starts Azurite and waits (at most 30 s) until its three services listen.</summary>
    public static async Task<AzuriteProcess> StartAsync()
    {
        var azurite = Path.Combine(RepositoryRoot, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException($"Azurite is not installed at {azurite}; run 'npm ci' in {RepositoryRoot} (./test does).");
        }
        int blob = FreePort(), queue = FreePort(), table = FreePort();
        var start = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                azurite, "--inMemoryPersistence", "--silent", "--disableProductStyleUrl",
                "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
                "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
                "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start Azurite.");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = new AzuriteProcess(process, blob, queue, table);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        foreach (var port in new[] { blob, queue, table })
        {
            while (!await IsListeningAsync(port))
            {
                if (process.HasExited) throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} before listening: {output}");
                if (DateTime.UtcNow > deadline)
                {
                    await started.DisposeAsync();
                    throw new TimeoutException($"Azurite did not listen on port {port} within 30 s.");
                }
                await Task.Delay(100);
            }
        }
        return started;
    }

    /// <summary>The CPU time Azurite has used so far (for benchmarks that count the storage emulator's share of the work).</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Serverless.sln not found above " + AppContext.BaseDirectory);
    }
}
