using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Api;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Core.Datasets;

/// <summary>
/// Ingests one blob of the drop zone. Whatever lands there ends as a content-addressed dataset version (with its
/// profile), a recognised duplicate of one, an updated spec, or a quarantined file kept whole with a report a person
/// can act on. Streaming passes over a local copy (one; a second only to append or to normalize values) keep memory
/// bounded whatever the file's size.
/// </summary>
public sealed class DatasetIngestor(
    PipelineStorage storage,
    ModelSpecStore specs,
    SpecIntake specIntake,
    DroppedSpecs droppedSpecs,
    DatasetStore datasets,
    QuarantineStore quarantine,
    AuditLog audit,
    IOptions<IngestionOptions> options,
    ILogger<DatasetIngestor> logger)
{
    private readonly IngestionOptions _options = options.Value;
    private readonly DatasetFileProcessor _processor = new(options.Value, datasets);

    public async Task<IngestionOutcome> IngestAsync(string blobName, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var (model, file, nameProblem) = DropZoneNames.Parse(blobName);
        if (nameProblem is null && file == ModelSpecStore.FileName) return await IngestSpecBlobAsync(model!, ct).ConfigureAwait(false);

        var blob = storage.Incoming.GetBlobClient(blobName);
        BlobProperties properties;
        try
        {
            properties = (await blob.GetPropertiesAsync(cancellationToken: ct).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
        {
            return Deleted(blobName);
        }

        using var scratch = new ScratchFolder();
        if (await ReadUploadAsync(blob, properties, scratch, ct).ConfigureAwait(false) is not { } upload) return Changed(blobName);
        if (nameProblem is not null)
        {
            return await QuarantineAsync(model ?? DropZoneNames.InvalidFolder, upload, new Rejection(ReasonCodes.InvalidBlobName, nameProblem), ct).ConfigureAwait(false);
        }
        try
        {
            var extension = DropZoneNames.DataExtension(file!);
            if (extension is null)
            {
                throw new Rejection(ReasonCodes.UnsupportedExtension,
                    $"'{file}' is not a data file this pipeline reads; use {DropZoneNames.Accepted}, or {ModelSpecStore.FileName} for the spec.");
            }
            return await IngestDataAsync(model!, upload, DropZoneNames.IsGzip(file!), scratch, ct).ConfigureAwait(false);
        }
        catch (Rejection rejection)
        {
            return await QuarantineAsync(model!, upload, rejection, ct).ConfigureAwait(false);
        }
    }

    private static IngestionOutcome Deleted(string blobName) =>
        new(IngestionStatus.Ignored, "", blobName, null, null, [], "The blob was deleted before it could be read.");

    /// <summary>
    /// Overwritten or deleted after its properties were read: the bytes that would be ingested are not the ones the ETag
    /// names. A newer version has an ETag of its own and is handled on its own.
    /// </summary>
    private static IngestionOutcome Changed(string blobName) =>
        new(IngestionStatus.Ignored, "", blobName, null, null, [], "The blob changed while it was being read; its newer version is handled separately.");

    /// <summary>Downloads the version of the blob its properties name; null when that version is gone.</summary>
    private static async Task<Upload?> ReadUploadAsync(BlobClient blob, BlobProperties properties, ScratchFolder scratch, CancellationToken ct)
    {
        var original = scratch.File("original");
        if (await UploadFiles.DownloadAsync(blob, properties.ETag, original, ct).ConfigureAwait(false) is not { } downloaded) return null;
        return new Upload(blob.Name, properties.ETag.ToString(), properties.LastModified, downloaded.Bytes, downloaded.Sha256, original);
    }

    /// <summary>
    /// The trigger of <c>incoming/{model}/model.json</c>: the version there is brought into force through
    /// <see cref="DroppedSpecs"/>, unless a data file of the model brought it in first (then nothing is done twice).
    /// </summary>
    private async Task<IngestionOutcome> IngestSpecBlobAsync(string model, CancellationToken ct)
    {
        var blobName = ModelSpecStore.BlobName(model);
        var settled = await droppedSpecs.SettleAsync(model, blobName, (blob, properties, token) => ReadSpecAsync(model, blob, properties, token), ct).ConfigureAwait(false);
        if (settled is null) return Deleted(blobName);
        return settled.Handled ?? new IngestionOutcome(IngestionStatus.Ignored, model, blobName, null, settled.Record.QuarantineBlob, [],
            $"This version of {blobName} was handled already, before {settled.Record.HandledFor}: {settled.Record.Message}");
    }

    /// <summary>Reads one version of a dropped spec and brings it into force, or quarantines it with its reasons.</summary>
    private async Task<IngestionOutcome> ReadSpecAsync(string model, BlobClient blob, BlobProperties properties, CancellationToken ct)
    {
        using var scratch = new ScratchFolder();
        if (await ReadUploadAsync(blob, properties, scratch, ct).ConfigureAwait(false) is not { } upload) return Changed(blob.Name);
        try
        {
            return await IngestSpecAsync(model, upload, ct).ConfigureAwait(false);
        }
        catch (Rejection rejection)
        {
            return await QuarantineAsync(model, upload, rejection, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A dropped spec comes into force through <see cref="SpecIntake"/>; one that fails is quarantined with every reason, and the spec in force stays.</summary>
    private async Task<IngestionOutcome> IngestSpecAsync(string model, Upload upload, CancellationToken ct)
    {
        AcceptedSpec accepted;
        try
        {
            accepted = await specIntake.AcceptAsync(model, await File.ReadAllBytesAsync(upload.Path, ct).ConfigureAwait(false), AuditActors.Upload, $"{storage.Incoming.Name}/{upload.BlobName}", null, ct).ConfigureAwait(false);
        }
        catch (InvalidSpecException e)
        {
            throw new Rejection(ReasonCodes.SpecInvalid, $"{e.Message} The spec in force is unchanged.");
        }
        return new IngestionOutcome(IngestionStatus.SpecUpdated, model, upload.BlobName, null, null, [], $"Spec version {accepted.Version.Version} of '{model}' was read from {upload.BlobName} and is in force." + (accepted.Note is { } note ? " " + note : ""));
    }

    /// <summary>
    /// Reads a data file under the spec in force, once a spec dropped before it (and not yet handled: no host orders the
    /// blobs of the drop zone but the local poller) is brought in. A dropped spec that is refused leaves the spec in force,
    /// and the file is read under that one: its outcome, its quarantine report or its audit record says so.
    /// </summary>
    private async Task<IngestionOutcome> IngestDataAsync(string model, Upload upload, bool gzip, ScratchFolder scratch, CancellationToken ct)
    {
        var settled = await droppedSpecs.SettleAsync(model, upload.BlobName, (blob, properties, token) => ReadSpecAsync(model, blob, properties, token), ct).ConfigureAwait(false);
        var specVersion = await ReadSpecOrRejectAsync(model, ct).ConfigureAwait(false);
        // Refused and not since replaced: the spec in force is still the one the refusal left.
        var refused = settled?.Record is { Status: IngestionStatus.Quarantined } record && record.SpecVersionInForce == (specVersion?.Version ?? 0) ? record : null;
        if (refused is null) return await IngestDataUnderAsync(model, upload, gzip, scratch, specVersion, null, ct).ConfigureAwait(false);

        var note = $"The spec dropped as {storage.Incoming.Name}/{ModelSpecStore.BlobName(model)} was refused (kept in {storage.Quarantine.Name}/{refused.QuarantineBlob} with its reasons), " +
                   (specVersion is null ? "and the model has no spec in force: this file was read with everything inferred." : $"so this file was read under spec version {specVersion.Version}, the one in force.");
        try
        {
            var outcome = await IngestDataUnderAsync(model, upload, gzip, scratch, specVersion, refused.QuarantineBlob, ct).ConfigureAwait(false);
            return outcome with { ReasonCodes = [.. outcome.ReasonCodes, ReasonCodes.DroppedSpecRefused], Message = $"{outcome.Message} {note}" };
        }
        catch (Rejection rejection)
        {
            throw new Rejection(rejection.Code, $"{rejection.Message} {note}", rejection.Problems);
        }
    }

    private async Task<IngestionOutcome> IngestDataUnderAsync(string model, Upload upload, bool gzip, ScratchFolder scratch, SpecVersion? specVersion, string? refusedSpec, CancellationToken ct)
    {
        var spec = specVersion?.Spec ?? new ModelSpec();
        var text = upload.Path;
        if (gzip)
        {
            text = scratch.File("decompressed");
            await UploadFiles.DecompressAsync(upload.Path, text, _options.MaxDecompressedBytes, ct).ConfigureAwait(false);
        }
        var prior = await datasets.GetLatestAsync(model, ct).ConfigureAwait(false);
        var appendTo = DataPolicies.AppendTarget(spec, prior);
        // Appending a file whose bytes are already in the data would add its rows a second time.
        if (appendTo?.Sources.FirstOrDefault(s => s.Sha256 == upload.Sha256) is { } appended)
        {
            return await DuplicateAsync(model, upload, appendTo.Version,
                $"{upload.BlobName} holds the same bytes as {appended.Blob}, whose rows dataset version {appendTo.Version} already holds (policy append); " +
                "nothing new to train on, and its rows were not added twice.", ct).ConfigureAwait(false);
        }
        var local = _processor.Process(text, spec, prior, scratch.File(DatasetStore.DataFile), ct);
        var (schema, rows, first) = (local.Schema, local.Rows, local.First);

        var version = DatasetStore.VersionOf(local.Sha256, schema);
        var policy = DataPolicies.Of(spec);
        if (await datasets.GetManifestAsync(model, version, ct).ConfigureAwait(false) is { } existing)
        {
            if (appendTo is null && prior is not null && prior.Version != existing.Version)
            {
                return await RestoredAsync(model, upload, existing, prior, ct).ConfigureAwait(false);
            }
            return await DuplicateAsync(model, upload, existing.Version,
                $"{upload.BlobName} holds the same data as dataset version {existing.Version}: no new version. It trains again only if the last run of that version failed, was terminated or was purged.", ct).ConfigureAwait(false);
        }

        var manifest = new DatasetManifest
        {
            Model = model,
            Version = version,
            Sha256 = local.Sha256,
            CreatedAt = DateTimeOffset.UtcNow,
            Schema = schema,
            Rows = rows,
            RowsRejected = first.RejectedRows,
            Lines = first.Lines,
            Problems = [.. first.Problems.Entries.Select(ReportedProblem.From)],
            Sources = [.. (appendTo?.Sources ?? []),
                new DatasetSource(upload.BlobName, upload.ETag, upload.UploadedAt ?? DateTimeOffset.UtcNow, upload.Bytes, upload.Sha256)],
            PreviousVersion = prior?.Version,
            Policy = policy,
            Spec = SpecSnapshot.Of(specVersion),
            DataBlob = DatasetStore.DataBlob(model, version),
            ProfileBlob = DatasetStore.ProfileBlob(model, version),
        };
        if (!await datasets.WriteVersionAsync(manifest, local.CanonicalPath, local.Profile, ct).ConfigureAwait(false))
        {
            return await DuplicateAsync(model, upload, version, $"Dataset version {version} was written at the same time by another upload.", ct).ConfigureAwait(false);
        }
        await audit.RecordAsync(AuditActions.Ingested, model, AuditActors.Upload, $"new data in {upload.BlobName}", new IngestedDetails(upload.BlobName, upload.ETag, version, rows, first.RejectedRows, schema.Label, schema.Task, RefusedSpec: refusedSpec), ct).ConfigureAwait(false);
        logger.LogInformation("Accepted {BlobName} as {ModelName} {DatasetVersion}: {Rows} rows, {RejectedRows} rejected, label {Label}, task {Task}",
            upload.BlobName, model, version, rows, first.RejectedRows, schema.Label, schema.Task);
        return new IngestionOutcome(IngestionStatus.Accepted, model, upload.BlobName, version, null, first.RejectedRows > 0 ? [ReasonCodes.RowsRejected] : [],
            $"Accepted {rows} rows as dataset version {version}{(first.RejectedRows > 0 ? $"; {first.RejectedRows} rows were rejected (see the manifest)" : "")}.");
    }

    /// <summary>
    /// Under policy replace the newest upload is the data: a file holding the data of an earlier version (not the latest)
    /// makes that version the latest again. As after any accepted upload, a run starts for it unless one already trained on it.
    /// </summary>
    private async Task<IngestionOutcome> RestoredAsync(string model, Upload upload, DatasetManifest existing, DatasetManifest latest, CancellationToken ct)
    {
        await datasets.SetLatestAsync(model, existing.Version, ct).ConfigureAwait(false);
        var message = $"{upload.BlobName} holds the same data as dataset version {existing.Version}, which is the latest again (policy replace; it was {latest.Version}).";
        // Listed with the uploads that held an existing version's data, so that GET .../datasets shows what became of it.
        await datasets.RecordDuplicateAsync(model, new DuplicateUpload(upload.BlobName, upload.ETag, upload.UploadedAt, DateTimeOffset.UtcNow, upload.Bytes, upload.Sha256,
            existing.Version, message, Restored: true), ct).ConfigureAwait(false);
        await audit.RecordAsync(AuditActions.Ingested, model, AuditActors.Upload, message,
            new IngestedDetails(upload.BlobName, upload.ETag, existing.Version, existing.Rows, existing.RowsRejected, existing.Schema.Label, existing.Schema.Task, Replaced: latest.Version), ct).ConfigureAwait(false);
        logger.LogInformation("{BlobName} restored {ModelName} {DatasetVersion} as the latest data (was {Replaced})", upload.BlobName, model, existing.Version, latest.Version);
        return new IngestionOutcome(IngestionStatus.Accepted, model, upload.BlobName, existing.Version, null, [], message);
    }

    /// <summary>Records an upload that holds the data of an existing version; nothing new to train on.</summary>
    private async Task<IngestionOutcome> DuplicateAsync(string model, Upload upload, string version, string message, CancellationToken ct)
    {
        logger.LogInformation("{BlobName} holds the same data as {DatasetVersion}", upload.BlobName, version);
        await datasets.RecordDuplicateAsync(model, new DuplicateUpload(upload.BlobName, upload.ETag, upload.UploadedAt, DateTimeOffset.UtcNow, upload.Bytes, upload.Sha256, version, message), ct).ConfigureAwait(false);
        await audit.RecordAsync(AuditActions.Duplicate, model, AuditActors.Upload, message, new DuplicateDetails(upload.BlobName, upload.ETag, version), ct).ConfigureAwait(false);
        return new IngestionOutcome(IngestionStatus.Duplicate, model, upload.BlobName, version, null, [], message);
    }

    private async Task<SpecVersion?> ReadSpecOrRejectAsync(string model, CancellationToken ct)
    {
        try
        {
            return await specs.GetCurrentAsync(model, ct).ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException e)
        {
            // Only a stored spec changed by hand can be unreadable: every spec is checked before it is stored.
            throw new Rejection(ReasonCodes.SpecInvalid, $"The model's spec in force ({ModelSpecStore.CurrentBlob(model)} in the models container) cannot be read, " +
                                                $"so the data cannot be checked against it: {e.Message} Upload a valid model.json to incoming/{model}/, or PUT the spec, then upload the data again.");
        }
    }

    /// <summary>Keeps a rejected file whole in quarantine with its report, and audits it.</summary>
    private async Task<IngestionOutcome> QuarantineAsync(string model, Upload upload, Rejection rejection, CancellationToken ct)
    {
        var kept = await quarantine.KeepAsync(model, upload, rejection, ct).ConfigureAwait(false);
        await audit.RecordAsync(AuditActions.Quarantine, model, AuditActors.Upload, rejection.Message, new QuarantinedDetails(upload.BlobName, upload.ETag, rejection.Code, kept.Location), ct).ConfigureAwait(false);
        logger.LogWarning("Quarantined {BlobName} as {ReasonCode}: {Reason}", upload.BlobName, rejection.Code, rejection.Message);
        return new IngestionOutcome(IngestionStatus.Quarantined, model, upload.BlobName, null, kept.Location, [rejection.Code], kept.Report.Summary);
    }
}
