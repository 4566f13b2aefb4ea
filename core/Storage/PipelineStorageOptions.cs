namespace Serverless.Core.Storage;

/// <summary>Where the pipeline keeps its blobs and tables; bound from the <c>Pipeline:Storage</c> section.</summary>
public sealed class PipelineStorageOptions
{
    public const string Section = "Pipeline:Storage";

    /// <summary>A storage connection string; <c>UseDevelopmentStorage=true</c> means Azurite on its default ports.</summary>
    public string ConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>
    /// On Azure: the storage account reached with the app's managed identity (DefaultAzureCredential). When set it
    /// takes precedence over <see cref="ConnectionString"/>, so no key is kept in configuration.
    /// </summary>
    public string? AccountName { get; set; }

    /// <summary>
    /// The REST service version the blob and queue clients speak. The 12.30 clients default to a version newer
    /// than the Azurite release on npm accepts, so it is pinned; empty means the client's default.
    /// </summary>
    public string ServiceVersion { get; set; } = "2026-06-06";

    public string IncomingContainer { get; set; } = "incoming";
    public string DatasetsContainer { get; set; } = "datasets";
    public string QuarantineContainer { get; set; } = "quarantine";
    public string ModelsContainer { get; set; } = "models";
    public string MonitoringContainer { get; set; } = "monitoring";

    /// <summary>Prefix of every table the pipeline creates (runs, audit, receipts, orchestration state).</summary>
    public string TablePrefix { get; set; } = "mlops";
}
