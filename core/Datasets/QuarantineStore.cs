using Azure.Storage.Blobs.Models;
using Serverless.Core.Storage;

namespace Serverless.Core.Datasets;

/// <summary>
/// The quarantine container: rejected files kept whole, each in a folder of its own with a JSON report and a
/// one-paragraph summary, and the listing of them per model.
/// </summary>
public sealed class QuarantineStore(PipelineStorage storage)
{
    public const string OriginalFile = "original";
    public const string ReportFile = "report.json";
    public const string SummaryFile = "summary.txt";

    /// <summary>Keeps <paramref name="upload"/> whole with its report; returns where (the folder, within the container) and the report.</summary>
    internal async Task<QuarantinedFile> KeepAsync(string model, Upload upload, Rejection rejection, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var safeName = SafeName(upload.BlobName.Split('/')[^1]);
        var prefix = $"{model}/{NameParts.Stamp(upload.UploadedAt ?? DateTimeOffset.UtcNow)}-{NameParts.ShortHash(upload.BlobName + upload.ETag)}-{safeName}/";
        var summary = $"The file '{CellValues.Escape(upload.BlobName)}' ({upload.Bytes:N0} bytes) was not accepted for model '{model}': {rejection.Message} " +
                      $"It is kept unchanged at {storage.Quarantine.Name}/{prefix}{OriginalFile}. " +
                      // A spec is read only under its own name; a data file under any name the ingestor reads.
                      (model == DropZoneNames.InvalidFolder
                          ? $"Upload it again as incoming/{{model}}/{{file}}, under a valid model name ({Hosting.ModelNames.Rule})."
                          : upload.BlobName.Split('/')[^1] == Specs.ModelSpecStore.FileName
                          ? $"Fix the spec and upload it again as incoming/{model}/{Specs.ModelSpecStore.FileName} (a spec is read under that name only)."
                          : $"Fix the file and upload it again under any name in incoming/{model}/.");
        var report = new QuarantineReport
        {
            Blob = upload.BlobName,
            ETag = upload.ETag,
            Sha256 = upload.Sha256,
            Bytes = upload.Bytes,
            UploadedAt = upload.UploadedAt,
            QuarantinedAt = DateTimeOffset.UtcNow,
            ReasonCodes = [rejection.Code],
            Reason = rejection.Message,
            Problems = [.. (rejection.Problems?.Entries ?? []).Select(ReportedProblem.From)],
            Summary = summary,
        };
        await using (var original = File.OpenRead(upload.Path))
        {
            await storage.Quarantine.GetBlobClient(prefix + OriginalFile).UploadAsync(original, overwrite: true, ct).ConfigureAwait(false);
        }
        await JsonBlobs.WriteAsync(storage.Quarantine.GetBlobClient(prefix + ReportFile), report, ct).ConfigureAwait(false);
        await storage.Quarantine.GetBlobClient(prefix + SummaryFile).UploadAsync(BinaryData.FromString(summary), overwrite: true, ct).ConfigureAwait(false);
        return new QuarantinedFile(prefix, report);
    }

    /// <summary>The models that have a quarantined file.</summary>
    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        return await ModelFolders.ListAsync(storage.Quarantine, marker: null, ct).ConfigureAwait(false);
    }

    /// <summary>The quarantined files of a model, newest first.</summary>
    public async Task<IReadOnlyList<QuarantinedFile>> ListAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var files = new List<QuarantinedFile>();
        await foreach (var item in storage.Quarantine.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", model + "/", ct).ConfigureAwait(false))
        {
            if (!item.IsPrefix) continue;
            var read = await JsonBlobs.TryReadAsync<QuarantineReport>(storage.Quarantine.GetBlobClient(item.Prefix + ReportFile), ct).ConfigureAwait(false);
            if (read is { } report) files.Add(new QuarantinedFile(item.Prefix, report.Value));
        }
        return [.. files.OrderByDescending(f => f.Report.QuarantinedAt)];
    }

    /// <summary>Where a quarantined file's original bytes are kept: <c>{container}/{model}/{folder}/original</c>.</summary>
    public string OriginalOf(QuarantinedFile file) => $"{storage.Quarantine.Name}/{file.Location}{OriginalFile}";

    private static string SafeName(string name)
    {
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()).Replace("..", "_", StringComparison.Ordinal).Trim('.');
        return safe.Length == 0 ? "file" : safe[..Math.Min(safe.Length, 80)];
    }
}
