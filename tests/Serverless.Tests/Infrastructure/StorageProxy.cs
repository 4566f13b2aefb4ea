using System.Net;
using System.Net.Sockets;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on a loopback port of its own to one of the fixture's Azurite services (<paramref name="servicePort"/>;
/// default blob): a component given <see cref="ConnectionString"/> reaches that service only while the proxy runs, so
/// <see cref="Stop"/> is a storage outage for that component alone (connection refused, as when Azurite is killed) while
/// the shared emulator and other tests go on. It does not run until <see cref="Start"/>: storage unreachable from the first call.
/// </summary>
public sealed class StorageProxy(AzuriteFixture azurite, int? servicePort = null) : IAsyncDisposable
{
    private readonly int _target = servicePort ?? azurite.BlobPort;

    private readonly Lock _lock = new();
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _running;

    public int Port { get; } = AzuriteFixture.FreePort();

    /// <summary>The fixture's connection string with the proxied service's endpoint through this proxy (the others go straight to Azurite).</summary>
    public string ConnectionString => Through(azurite.ConnectionString);

    /// <summary><paramref name="connectionString"/> (the fixture's, or one made from it) with the proxied service's endpoint through this proxy.</summary>
    public string Through(string connectionString) => connectionString.Replace($"127.0.0.1:{_target}/", $"127.0.0.1:{Port}/", StringComparison.Ordinal);

    public void Start()
    {
        lock (_lock)
        {
            if (_listener is not null) return;
            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listener = listener;
            _running = new CancellationTokenSource();
            _ = AcceptAsync(listener, _running.Token);
        }
    }

    /// <summary>Refuses new connections and cuts the open ones, pooled keep-alive connections included.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _running?.Cancel();
            _listener?.Stop();
            _listener = null;
            foreach (var connection in _connections) connection.Dispose();
            _connections.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return; // stopped
            }
            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _target, ct);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }
            lock (_lock)
            {
                if (ct.IsCancellationRequested)
                {
                    inbound.Dispose();
                    outbound.Dispose();
                    return;
                }
                _connections.Add(inbound);
                _connections.Add(outbound);
            }
            _ = PumpAsync(inbound, outbound);
            _ = PumpAsync(outbound, inbound);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
            to.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Cut by Stop or closed by either side.
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
