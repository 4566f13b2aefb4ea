namespace Serverless.Core.Serving;

/// <summary>Serving settings, bound from <c>Pipeline:Serving</c>.</summary>
public sealed class PredictionOptions
{
    public const string Section = "Pipeline:Serving";

    /// <summary>How often each served alias is re-read; a change is loaded in the background and swapped in.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

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
