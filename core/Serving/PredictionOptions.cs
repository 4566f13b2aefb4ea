namespace Serverless.Core.Serving;

/// <summary>Serving settings, bound from <c>Pipeline:Serving</c>.</summary>
public sealed class PredictionOptions
{
    public const string Section = "Pipeline:Serving";

    /// <summary>How often each served alias is re-read; a change is loaded in the background and swapped in.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How a request treats what this host read at <paramref name="readAt"/> (<see cref="Environment.TickCount64"/>): up
    /// to one <see cref="RefreshInterval"/> old it is used as it is; older, it is used while it is read again in the
    /// background; older than twice the interval (nothing asked for it meanwhile) it is read again before the request
    /// goes on, since what it says may have changed minutes ago on another host; for at most <see cref="RefreshWait"/>.
    /// </summary>
    public Staleness StalenessOf(long readAt)
    {
        var age = Environment.TickCount64 - readAt;
        var interval = (long)RefreshInterval.TotalMilliseconds;
        return age <= interval ? Staleness.Fresh : age <= 2 * interval ? Staleness.RefreshInBackground : Staleness.RefreshFirst;
    }

    /// <summary>
    /// How long a request waits for the re-read of <see cref="Staleness.RefreshFirst"/> (counted from when the read
    /// started) before it is answered by the version the host holds; the read goes on in the background. Storage that
    /// does not answer is retried by the SDK for half a minute, which no request should wait for when a verified
    /// version is in memory.
    /// </summary>
    public TimeSpan RefreshWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most rows one request may hold; more is answered 413.</summary>
    public int MaxRows { get; set; } = 1000;

    /// <summary>
    /// How long a version that failed its integrity check is not downloaded again: requests that need it meanwhile get
    /// the remembered failure, so a tampered model costs neither a download nor an audit record per request.
    /// </summary>
    public TimeSpan IntegrityRetryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How many versions pinned with <c>?version=</c> stay loaded besides the ones aliases point at (least recently used leave first).</summary>
    public int MaxPinnedVersions { get; set; } = 4;
}

/// <summary>What <see cref="PredictionOptions.StalenessOf"/> says a request does with what the host holds.</summary>
public enum Staleness { Fresh, RefreshInBackground, RefreshFirst }
