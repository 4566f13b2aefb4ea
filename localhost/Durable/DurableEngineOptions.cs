namespace Serverless.LocalHost.Durable;

/// <summary>
/// The local host's Durable Task engine (section <c>Pipeline:Durable</c>): DurableTask.AzureStorage on the pipeline's
/// storage account, behind the in-process gRPC sidecar that the Durable Task worker and client connect to. The task hub
/// keeps the layout Durable Functions keeps in AzureWebJobsStorage: control queues (<c>{hub}-control-NN</c>), the
/// work-item queue (<c>{hub}-workitems</c>), the <c>{hub}Instances</c> and <c>{hub}History</c> tables, the
/// <c>{hub}Partitions</c> table of partition ownership and the <c>{hub}-largemessages</c> container. Several hosts on one
/// task hub share its partitions and its work-item queue.
/// </summary>
public sealed class DurableEngineOptions
{
    public const string Section = "Pipeline:Durable";

    /// <summary>Task hub name: 3 to 45 letters and digits, starting with a letter. Durable Functions' <c>hubName</c> in host.json.</summary>
    public string TaskHubName { get; set; } = "mlops";

    /// <summary>Control-queue partitions (1 to 16); fixed for the life of a task hub.</summary>
    public int PartitionCount { get; set; } = 4;

    /// <summary>
    /// How long a dequeued activity message stays invisible. Its lease is renewed every <see cref="ActivityLeaseRenewal"/>
    /// while it runs, so this bounds only how soon a crashed host's activity runs elsewhere (the default is 5 minutes).
    /// </summary>
    public TimeSpan WorkItemQueueVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often a running activity's lease is renewed; well under <see cref="WorkItemQueueVisibilityTimeout"/>.</summary>
    public TimeSpan ActivityLeaseRenewal { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a dequeued orchestration message stays invisible (default 5 minutes): bounds a crashed host's episode.</summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a partition's ownership lasts unrenewed: after a crash, another host takes it over once it lapses.</summary>
    public TimeSpan PartitionLeaseInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often owned partitions are renewed and free ones looked for.</summary>
    public TimeSpan PartitionLeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>The longest wait between polls of an idle queue (Durable Functions' <c>maxQueuePollingInterval</c>, 30 s by default).</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>This host's name in partition ownership; empty: machine name and process id.</summary>
    public string WorkerId { get; set; } = "";

    /// <summary>Activities this host runs at once; 0: the processor count.</summary>
    public int MaxConcurrentActivities { get; set; }

    /// <summary>Orchestration episodes this host runs at once.</summary>
    public int MaxConcurrentOrchestrations { get; set; } = 16;

    /// <summary>Loopback port of the in-process gRPC sidecar; 0: a free one.</summary>
    public int SidecarPort { get; set; }

    /// <summary>
    /// How often the sidecar sends the worker a health ping on its idle work-item stream (0: never). The worker reconnects
    /// a stream that carries nothing for two minutes.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An orchestrator or activity item written to the worker's stream less than this before the stream ended, and not
    /// answered, is written again to the worker's next stream (see <see cref="SidecarGrpcServer"/>); 0 writes nothing again.
    /// </summary>
    public TimeSpan RedeliveryWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most a host's stop waits for the engine to hand back its partitions and leases.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public string ResolvedWorkerId => string.IsNullOrWhiteSpace(WorkerId) ? Serverless.Core.Hosting.HostIdentity.Name : WorkerId;

    public int ResolvedMaxConcurrentActivities => MaxConcurrentActivities > 0 ? MaxConcurrentActivities : Environment.ProcessorCount;

    /// <summary>Checks the settings as the engine would, with messages that name the setting.</summary>
    public void Validate()
    {
        if (TaskHubName.Length is < 3 or > 45 || !char.IsAsciiLetter(TaskHubName[0]) || !TaskHubName.All(char.IsAsciiLetterOrDigit))
        {
            throw new InvalidOperationException($"{Section}:TaskHubName '{TaskHubName}' must be 3 to 45 letters and digits, starting with a letter.");
        }
        if (PartitionCount is < 1 or > 16) throw new InvalidOperationException($"{Section}:PartitionCount must be 1 to 16, not {PartitionCount}.");
        if (ActivityLeaseRenewal <= TimeSpan.Zero || ActivityLeaseRenewal * 2 > WorkItemQueueVisibilityTimeout)
        {
            throw new InvalidOperationException($"{Section}:ActivityLeaseRenewal ({ActivityLeaseRenewal}) must be positive and at most half of WorkItemQueueVisibilityTimeout ({WorkItemQueueVisibilityTimeout}).");
        }
        if (PartitionLeaseRenewInterval * 2 > PartitionLeaseInterval)
        {
            throw new InvalidOperationException($"{Section}:PartitionLeaseRenewInterval ({PartitionLeaseRenewInterval}) must be at most half of PartitionLeaseInterval ({PartitionLeaseInterval}).");
        }
        if (RedeliveryWindow < TimeSpan.Zero) throw new InvalidOperationException($"{Section}:RedeliveryWindow must not be negative, not {RedeliveryWindow} (0 turns redelivery off).");
    }
}
