using Serverless.Core.Storage;
using Serverless.LocalHost.Durable;

namespace Serverless.Testing;

/// <summary>
/// Containers, tables and a Durable Task hub named after a suffix, so that hosts of one test (or benchmark run) share
/// them and hosts of others never see them, on one shared Azurite.
/// </summary>
public static class IsolatedLayout
{
    public static string NewSuffix() => Guid.NewGuid().ToString("N")[..8];

    public static string TaskHub(string suffix) => "hub" + suffix;

    /// <summary>The storage options of the layout (for clients the test or benchmark makes itself).</summary>
    public static PipelineStorageOptions Storage(string connectionString, string suffix) => new()
    {
        ConnectionString = connectionString,
        TablePrefix = "t" + suffix,
        IncomingContainer = "incoming-" + suffix,
        DatasetsContainer = "datasets-" + suffix,
        QuarantineContainer = "quarantine-" + suffix,
        ModelsContainer = "models-" + suffix,
        MonitoringContainer = "monitoring-" + suffix,
    };

    /// <summary>The layout as host settings (configuration keys and values).</summary>
    public static Dictionary<string, string> Settings(string connectionString, string suffix)
    {
        var storage = Storage(connectionString, suffix);
        var section = PipelineStorageOptions.Section;
        return new Dictionary<string, string>
        {
            [$"{section}:{nameof(PipelineStorageOptions.ConnectionString)}"] = storage.ConnectionString,
            [$"{section}:{nameof(PipelineStorageOptions.TablePrefix)}"] = storage.TablePrefix,
            [$"{section}:{nameof(PipelineStorageOptions.IncomingContainer)}"] = storage.IncomingContainer,
            [$"{section}:{nameof(PipelineStorageOptions.DatasetsContainer)}"] = storage.DatasetsContainer,
            [$"{section}:{nameof(PipelineStorageOptions.QuarantineContainer)}"] = storage.QuarantineContainer,
            [$"{section}:{nameof(PipelineStorageOptions.ModelsContainer)}"] = storage.ModelsContainer,
            [$"{section}:{nameof(PipelineStorageOptions.MonitoringContainer)}"] = storage.MonitoringContainer,
            // The Durable Task hub's queues, tables and leases are named after it.
            [$"{DurableEngineOptions.Section}:{nameof(DurableEngineOptions.TaskHubName)}"] = TaskHub(suffix),
        };
    }
}
