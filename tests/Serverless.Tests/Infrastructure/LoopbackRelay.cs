using System.Net;
using System.Net.Sockets;

namespace Serverless.Tests.Infrastructure;

/// <summary>
/// A loopback port that refuses connections until <see cref="Open"/>, then relays them to a port of the Azurite
/// fixture: storage that is unreachable, then comes back, for a client built once with this port's address.
/// </summary>
public sealed class LoopbackRelay(int target) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    /// <summary>The port clients are given; nothing listens on it before <see cref="Open"/>.</summary>
    public int Port { get; } = AzuriteFixture.FreePort();

    /// <summary>A copy of <paramref name="connectionString"/> whose endpoint on <paramref name="targetPort"/> goes through this relay.</summary>
    public string Through(string connectionString, int targetPort) =>
        connectionString.Replace($"127.0.0.1:{targetPort}/", $"127.0.0.1:{Port}/", StringComparison.Ordinal);

    public void Open()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _accepting = AcceptAsync(_listener, _stop.Token);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient caller;
            try { caller = await listener.AcceptTcpClientAsync(ct); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = RelayAsync(caller, ct);
        }
    }

    private async Task RelayAsync(TcpClient caller, CancellationToken ct)
    {
        using (caller)
        using (var azurite = new TcpClient())
        {
            try
            {
                await azurite.ConnectAsync(IPAddress.Loopback, target, ct);
                var (up, down) = (caller.GetStream(), azurite.GetStream());
                await Task.WhenAny(up.CopyToAsync(down, ct), down.CopyToAsync(up, ct));
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // A closed connection on either side ends the relay of that connection.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener?.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
