using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;

namespace Serverless.Core.Storage;

/// <summary>The storage clients of the pipeline: thread-safe singletons, created once with the pinned service version.</summary>
public sealed class PipelineStorage
{
    private readonly PipelineStorageOptions _options;
    private readonly CreatedOnce _ensured;

    public PipelineStorage(IOptions<PipelineStorageOptions> options)
    {
        _options = options.Value;
        var blobOptions = BlobOptions();
        var queueOptions = QueueOptions();
        if (!string.IsNullOrWhiteSpace(_options.AccountName))
        {
            var credential = Credential = new Azure.Identity.DefaultAzureCredential();
            var account = _options.AccountName.Trim();
            Blobs = new BlobServiceClient(new Uri($"https://{account}.blob.core.windows.net"), credential, blobOptions);
            Queues = new QueueServiceClient(new Uri($"https://{account}.queue.core.windows.net"), credential, queueOptions);
            Tables = new TableServiceClient(new Uri($"https://{account}.table.core.windows.net"), credential);
        }
        else
        {
            Blobs = new BlobServiceClient(_options.ConnectionString, blobOptions);
            Queues = new QueueServiceClient(_options.ConnectionString, queueOptions);
            Tables = new TableServiceClient(_options.ConnectionString);
        }
        Incoming = Blobs.GetBlobContainerClient(_options.IncomingContainer);
        Datasets = Blobs.GetBlobContainerClient(_options.DatasetsContainer);
        Quarantine = Blobs.GetBlobContainerClient(_options.QuarantineContainer);
        Models = Blobs.GetBlobContainerClient(_options.ModelsContainer);
        Monitoring = Blobs.GetBlobContainerClient(_options.MonitoringContainer);
        _ensured = new CreatedOnce(CreateContainersAsync);
    }

    public PipelineStorageOptions Options => _options;
    public BlobServiceClient Blobs { get; }
    public QueueServiceClient Queues { get; }
    public TableServiceClient Tables { get; }
    public BlobContainerClient Incoming { get; }
    public BlobContainerClient Datasets { get; }
    public BlobContainerClient Quarantine { get; }
    public BlobContainerClient Models { get; }
    public BlobContainerClient Monitoring { get; }

    /// <summary>The managed identity's credential when the account is named (no connection string), else null.</summary>
    public Azure.Core.TokenCredential? Credential { get; }

    /// <summary>Blob client options with the pinned service version; for other clients of the same account (the Durable Task engine's).</summary>
    public BlobClientOptions BlobOptions() => Pinned
        ? new BlobClientOptions(ParseVersion<BlobClientOptions.ServiceVersion>(_options.ServiceVersion))
        : new BlobClientOptions();

    /// <summary>Queue client options with the pinned service version.</summary>
    public QueueClientOptions QueueOptions() => Pinned
        ? new QueueClientOptions(ParseVersion<QueueClientOptions.ServiceVersion>(_options.ServiceVersion))
        : new QueueClientOptions();

    private bool Pinned => !string.IsNullOrWhiteSpace(_options.ServiceVersion);

    /// <summary>
    /// Creates the containers once per process (again after a failed attempt); safe to call on every request. The token
    /// ends this caller's wait, not the creation, which other callers may share.
    /// </summary>
    public Task EnsureCreatedAsync(CancellationToken ct = default) => _ensured.EnsureAsync().WaitAsync(ct);

    /// <summary>A table client for one of the pipeline's tables (name without the prefix), created on first use.</summary>
    public TableClient Table(string name) => Tables.GetTableClient(_options.TablePrefix + name);

    private async Task CreateContainersAsync()
    {
        foreach (var container in new[] { Incoming, Datasets, Quarantine, Models, Monitoring })
        {
            await container.CreateIfNotExistsAsync().ConfigureAwait(false);
        }
    }

    private static TVersion ParseVersion<TVersion>(string version) where TVersion : struct, Enum =>
        Enum.TryParse<TVersion>("V" + version.Trim().Replace('-', '_'), out var parsed)
            ? parsed
            : throw new InvalidOperationException($"{PipelineStorageOptions.Section}:ServiceVersion '{version}' is not a service version this client knows.");
}

/// <summary>Reading and writing JSON documents in blobs, with ETags for optimistic concurrency.</summary>
public static class JsonBlobs
{
    public static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true };
        options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.Converters.Add(new Specs.DurationJsonConverter());
        options.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
        return options;
    }

    /// <summary>Reads a JSON blob; null when it does not exist.</summary>
    public static async Task<(T Value, ETag ETag)?> TryReadAsync<T>(BlobClient blob, CancellationToken ct)
    {
        try
        {
            var content = await blob.DownloadContentAsync(ct).ConfigureAwait(false);
            var value = content.Value.Content.ToObjectFromJson<T>(Options)
                ?? throw new InvalidDataException($"Blob '{blob.Name}' holds JSON null.");
            return (value, content.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound || e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes a JSON blob. <paramref name="ifMatch"/> guards an update, <see cref="ETag.All"/> as ifNoneMatch guards a
    /// create, and <paramref name="leaseId"/> writes a leased blob (and fails once the lease is another's).
    /// </summary>
    public static async Task<ETag> WriteAsync<T>(BlobClient blob, T value, CancellationToken ct, ETag? ifMatch = null, bool createOnly = false, string? leaseId = null)
    {
        var conditions = new BlobRequestConditions { LeaseId = leaseId };
        if (ifMatch is { } etag) conditions.IfMatch = etag;
        if (createOnly) conditions.IfNoneMatch = ETag.All;
        var options = new BlobUploadOptions
        {
            Conditions = conditions,
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        };
        var response = await blob.UploadAsync(BinaryData.FromObjectAsJson(value, Options), options, ct).ConfigureAwait(false);
        return response.Value.ETag;
    }

    /// <summary>True when a conditional write lost a race (412) or a create-only write found the blob (409).</summary>
    public static bool IsConcurrencyConflict(RequestFailedException e) =>
        e.Status == 412 || e.ErrorCode == BlobErrorCode.ConditionNotMet || e.ErrorCode == BlobErrorCode.BlobAlreadyExists;
}
