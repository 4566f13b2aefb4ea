using System.Net.Http;
using System.Net.Sockets;
using Azure;

namespace Serverless.Core.Storage;

/// <summary>
/// Whether a fault means the storage account could not be reached (no answer at all, as opposed to an answer that
/// refused the request): what the storage clients throw once their retries gave up on a refused, reset or timed-out
/// connection. Such a fault passes by itself; the HTTP edge answers it 503 with <see cref="RetryAfter"/>.
/// </summary>
public static class StorageUnreachable
{
    /// <summary>How long a caller is told to wait before trying again (a storage outage is seldom shorter).</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>
    /// True for a request that got no answer (<see cref="RequestFailedException"/> with status 0), a failed connection
    /// (<see cref="HttpRequestException"/> without a status, <see cref="SocketException"/>), a network timeout
    /// (<see cref="TimeoutException"/>, or the <see cref="TaskCanceledException"/> the Azure pipeline throws when its
    /// network timeout passes), and the <see cref="AggregateException"/> of a retry policy whose every attempt was one.
    /// </summary>
    public static bool Is(Exception exception) => exception switch
    {
        RequestFailedException { Status: 0 } => true,
        RequestFailedException => false,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(Is),
        HttpRequestException { StatusCode: null } => true,
        SocketException or TimeoutException or TaskCanceledException => true,
        _ => false,
    };
}
