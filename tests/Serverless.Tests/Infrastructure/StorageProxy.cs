using System.Net;
using System.Net.Sockets;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on a loopback port of its own to the fixture's Azurite blob service: a component given
/// <see cref="ConnectionString"/> reaches storage only while the proxy runs, so <see cref="Stop"/> is a storage outage
/// for that component alone (connection refused, as when Azurite is killed) while the shared emulator and other tests go on.
/// It does not run until <see cref="Start"/>.
/// </summary>
public sealed class StorageProxy(AzuriteFixture azurite) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _running;

    public int Port { get; } = AzuriteFixture.FreePort();

    /// <summary>The fixture's connection string with the blob endpoint through this proxy (queues and tables go straight to Azurite).</summary>
    public string ConnectionString => azurite.ConnectionString.Replace($"127.0.0.1:{azurite.BlobPort}/", $"127.0.0.1:{Port}/", StringComparison.Ordinal);

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
                await outbound.ConnectAsync(IPAddress.Loopback, azurite.BlobPort, ct);
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
