namespace Serverless.LocalHost.Triggers;

/// <summary>The local blob trigger's polling, bound from <c>Pipeline:BlobTrigger</c>.</summary>
public sealed class BlobTriggerOptions
{
    public const string Section = "Pipeline:BlobTrigger";

    public bool Enabled { get; set; } = true;
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Blobs processed at once.</summary>
    public int MaxParallel { get; set; } = 2;

    /// <summary>Attempts before a blob is given up as poison (as the Functions host does after five).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How long a claim by another host holds before the blob may be taken over.</summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Names this host in receipts; a restarted host with the same id takes back its own unfinished claims at once.</summary>
    public string HostId { get; set; } = Environment.MachineName;
}
