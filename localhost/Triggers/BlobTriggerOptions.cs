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

    /// <summary>
    /// How long a claim holds without renewal. A host renews its claims while it works on them, so a blob is taken over
    /// only when its host died; after a crash the blob is processed again once this has passed.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Names this host process in receipts.</summary>
    public string HostId { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
}
