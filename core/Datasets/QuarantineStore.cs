using Azure.Storage.Blobs.Models;
using Serverless.Core.Storage;

namespace Serverless.Core.Datasets;

/// <summary>One kind of row-level problem of a quarantined file, as its report keeps it.</summary>
public sealed record QuarantineProblem(string Code, long Count, IReadOnlyList<long>? Lines, IReadOnlyList<string>? Details, IReadOnlyList<string>? Samples);

/// <summary>
/// A rejected upload as its report (<c>quarantine/{model}/{stamp}-{hash}-{file}/report.json</c>) describes it, with the
/// folder it is kept in (<see cref="Location"/>, the <c>location</c> the ingestion's audit record names).
/// </summary>
public sealed record QuarantinedFile
{
    public string Location { get; init; } = "";
    public string Blob { get; init; } = "";
    public long Bytes { get; init; }
    public DateTimeOffset? UploadedAt { get; init; }
    public DateTimeOffset QuarantinedAt { get; init; }
    public IReadOnlyList<string> ReasonCodes { get; init; } = [];
    public string Reason { get; init; } = "";
    public IReadOnlyList<QuarantineProblem> Problems { get; init; } = [];
    public string Summary { get; init; } = "";

    /// <summary>Where the rejected file is kept unchanged, in the quarantine container.</summary>
    public string Original => Location + "original";
}

/// <summary>Reads the quarantine of a model: every rejected file with its reasons, newest first.</summary>
public sealed class QuarantineStore(PipelineStorage storage)
{
    public const string ReportName = "report.json";

    /// <summary>At most <paramref name="max"/> quarantined files of <paramref name="model"/>, newest first.</summary>
    public async Task<IReadOnlyList<QuarantinedFile>> ListAsync(string model, int max, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var reports = new List<string>();
        await foreach (var blob in storage.Quarantine.GetBlobsAsync(BlobTraits.None, BlobStates.None, model + "/", ct).ConfigureAwait(false))
        {
            if (blob.Name.EndsWith("/" + ReportName, StringComparison.Ordinal)) reports.Add(blob.Name);
        }
        var files = new List<QuarantinedFile>();
        // Folder names start with the upload's UTC stamp (yyyyMMddTHHmmssZ), so their reverse order is newest first.
        foreach (var name in reports.OrderDescending(StringComparer.Ordinal).Take(max))
        {
            var read = await JsonBlobs.TryReadAsync<QuarantinedFile>(storage.Quarantine.GetBlobClient(name), ct).ConfigureAwait(false);
            if (read is { } report) files.Add(report.Value with { Location = name[..^ReportName.Length] });
        }
        return files;
    }
}
