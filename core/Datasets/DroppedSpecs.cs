using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using Serverless.Core.Specs;
using Serverless.Core.Storage;

namespace Serverless.Core.Datasets;

/// <summary>
/// What became of the version of <c>incoming/{model}/model.json</c> last handled (<see cref="DroppedSpecs"/>): its
/// <see cref="ETag"/> (null in the record made only to be leased, before any spec was handled), its outcome, and the spec
/// version in force once it was handled (0: none), which tells a later data file whether a refused spec is still the
/// newest word on the model's spec.
/// </summary>
public sealed record DroppedSpecRecord
{
    public string? ETag { get; init; }
    public IngestionStatus Status { get; init; }
    public string Message { get; init; } = "";
    public string? QuarantineBlob { get; init; }
    public int SpecVersionInForce { get; init; }
    public DateTimeOffset HandledAt { get; init; }

    /// <summary>The blob whose handling brought the spec in: the spec itself, or the data file that came after it.</summary>
    public string? HandledFor { get; init; }
}

/// <summary>A dropped spec as <see cref="DroppedSpecs.SettleAsync"/> left it: its record and, when this call handled it, the outcome.</summary>
public sealed record SettledSpec(DroppedSpecRecord Record, IngestionOutcome? Handled);

/// <summary>
/// Brings a spec waiting in <c>incoming/{model}/model.json</c> into force at most once per version (its ETag), whoever
/// asks first: the spec's own trigger, or the trigger of a data file of the model, which must not be read under the spec
/// before it. The Functions host gives no order between blobs (Event Grid delivers to any instance; the polling trigger
/// runs several at a time), so the order the local poller keeps is kept here, in the shared ingestion, for both hosts.
/// The model's record (<c>models/{model}/spec/dropped.json</c>) names the version last handled and is changed only under
/// a lease on it, so that two instances never handle one version twice (two audit records, or a quarantine and a spec
/// version) and a data file waits while another instance is bringing the spec in.
/// </summary>
public sealed class DroppedSpecs(PipelineStorage storage, ModelSpecStore specs, ILogger<DroppedSpecs> logger)
{
    /// <summary>
    /// How long the lease on a model's record holds without renewal: handling a spec (a few blob reads and writes) takes
    /// far less, and an instance that dies holding it blocks the model's other files no longer than this.
    /// </summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(60);

    /// <summary>How long a caller waits for the lease before it gives up and throws (its trigger then retries the blob).</summary>
    private static readonly TimeSpan LeaseWait = LeaseDuration * 2;

    /// <summary>How often one call reads the spec again when it changed while being read, before it leaves it to the next trigger.</summary>
    private const int MaxRereads = 5;

    /// <summary>The record of the dropped spec last handled, within the models container.</summary>
    public static string RecordBlob(string model) => $"{model}/spec/dropped.json";

    /// <summary>The record of what became of the model's dropped spec, or null when none was handled since records are kept.</summary>
    public async Task<DroppedSpecRecord?> GetAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        return (await JsonBlobs.TryReadAsync<DroppedSpecRecord>(Record(model), ct).ConfigureAwait(false))?.Value is { ETag: not null } record ? record : null;
    }

    /// <summary>
    /// Handles, through <paramref name="handle"/>, the version of <c>incoming/{model}/model.json</c> now in the drop zone
    /// unless it was handled already, and returns what became of it; null when the model has no dropped spec.
    /// <paramref name="handle"/> reads the version whose properties it is given and answers <see cref="IngestionStatus.Ignored"/>
    /// when that version is gone; the newer one is then handled in its place. It runs under the record's lease.
    /// </summary>
    public async Task<SettledSpec?> SettleAsync(string model, string handledFor,
        Func<BlobClient, BlobProperties, CancellationToken, Task<IngestionOutcome>> handle, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var spec = storage.Incoming.GetBlobClient(ModelSpecStore.BlobName(model));
        // Without the lease first: once a version is handled, every later data file of the model reads two small blobs only.
        if (await PropertiesAsync(spec, ct).ConfigureAwait(false) is not { } seen) return null;
        if (await GetAsync(model, ct).ConfigureAwait(false) is { } known && known.ETag == seen.ETag.ToString()) return new SettledSpec(known, null);

        var lease = await AcquireAsync(model, ct).ConfigureAwait(false);
        try
        {
            for (var read = 0; read < MaxRereads; read++)
            {
                if (await PropertiesAsync(spec, ct).ConfigureAwait(false) is not { } properties) return null;
                var etag = properties.ETag.ToString();
                var record = await GetAsync(model, ct).ConfigureAwait(false);
                if (record?.ETag == etag) return new SettledSpec(record, null);
                if (record is null && await HandledBeforeRecordsAsync(model, properties, ct).ConfigureAwait(false) is { } earlier)
                {
                    return new SettledSpec(await WriteAsync(model, lease, earlier with { ETag = etag, HandledFor = handledFor }, ct).ConfigureAwait(false), null);
                }

                var outcome = await handle(spec, properties, ct).ConfigureAwait(false);
                if (outcome.Status == IngestionStatus.Ignored) continue;
                var inForce = (await specs.GetCurrentAsync(model, ct).ConfigureAwait(false))?.Version ?? 0;
                var handled = new DroppedSpecRecord
                {
                    ETag = etag, Status = outcome.Status, Message = outcome.Message, QuarantineBlob = outcome.QuarantineBlob,
                    SpecVersionInForce = inForce, HandledAt = DateTimeOffset.UtcNow, HandledFor = handledFor,
                };
                return new SettledSpec(await WriteAsync(model, lease, handled, ct).ConfigureAwait(false), outcome);
            }
            logger.LogWarning("{BlobName} changed {Rereads} times while it was being read; its newest version is left to its own trigger", spec.Name, MaxRereads);
            return null;
        }
        finally
        {
            await ReleaseAsync(lease).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// How much later than a blob's last-modified time a spec must have been set to count as set after it: storage keeps
    /// whole seconds, on its own clock.
    /// </summary>
    private static readonly TimeSpan ClockTolerance = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A drop zone from before these records were kept: a spec counts as handled when the spec in force was set clearly
    /// after it was written (else a spec dropped long ago would be brought in again over one set later over HTTP). One set
    /// about the same time is not: the dropped spec is then handled, which changes nothing when it is the one in force.
    /// </summary>
    private async Task<DroppedSpecRecord?> HandledBeforeRecordsAsync(string model, BlobProperties properties, CancellationToken ct)
    {
        if (await specs.GetCurrentAsync(model, ct).ConfigureAwait(false) is not { } current || current.SetAt < properties.LastModified + ClockTolerance) return null;
        return new DroppedSpecRecord
        {
            Status = IngestionStatus.SpecUpdated, SpecVersionInForce = current.Version, HandledAt = current.SetAt,
            Message = $"The spec in force (version {current.Version}) was set after {storage.Incoming.Name}/{ModelSpecStore.BlobName(model)} was written; it was handled before.",
        };
    }

    private BlobClient Record(string model) => storage.Models.GetBlobClient(RecordBlob(model));

    private static async Task<BlobProperties?> PropertiesAsync(BlobClient blob, CancellationToken ct)
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: ct).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
        {
            return null;
        }
    }

    /// <summary>Takes the lease on the model's record (made empty first, when there is none yet), waiting while another instance holds it.</summary>
    private async Task<BlobLeaseClient> AcquireAsync(string model, CancellationToken ct)
    {
        var record = Record(model);
        try
        {
            await JsonBlobs.WriteAsync(record, new DroppedSpecRecord(), ct, createOnly: true).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (JsonBlobs.IsConcurrencyConflict(e) || e.ErrorCode == BlobErrorCode.LeaseIdMissing)
        {
            // There already: made by an earlier call, and perhaps leased now.
        }
        var lease = record.GetBlobLeaseClient();
        var deadline = DateTimeOffset.UtcNow + LeaseWait;
        while (true)
        {
            try
            {
                await lease.AcquireAsync(LeaseDuration, cancellationToken: ct).ConfigureAwait(false);
                return lease;
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.LeaseAlreadyPresent && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(Random.Shared.Next(50, 200), ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes the record under the lease: an instance whose lease ran out (and was taken over) fails here and its trigger retries.</summary>
    private async Task<DroppedSpecRecord> WriteAsync(string model, BlobLeaseClient lease, DroppedSpecRecord record, CancellationToken ct)
    {
        await JsonBlobs.WriteAsync(Record(model), record, ct, leaseId: lease.LeaseId).ConfigureAwait(false);
        return record;
    }

    private async Task ReleaseAsync(BlobLeaseClient lease)
    {
        try
        {
            await lease.ReleaseAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException e)
        {
            // Run out and taken by another instance: nothing of ours to release.
            logger.LogWarning("Releasing the lease on {BlobName} failed: {ErrorCode}", lease.Uri, e.ErrorCode);
        }
    }
}
