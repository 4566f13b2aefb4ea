using System.Text.Json;
using Serverless.Core.Datasets;
using Serverless.Core.Storage;
using Serverless.Core.Training;

namespace Serverless.Core.Monitoring;

/// <summary>
/// Labelled live rows for a retraining run, as canonical CSV blobs of a dataset version's schema (in the datasets
/// container, beside the version): <see cref="TrainBlob"/> is added to the run's train split, <see cref="RecentBlob"/>
/// (rows held out by a hash of their request id and row) is the recent data the new version must beat the champion on.
/// </summary>
public sealed record FeedbackRows(string TrainBlob, string RecentBlob, long TrainRows, long RecentRows);

/// <summary>Writes the labelled rows (logged predictions joined with feedback) of a window as <see cref="FeedbackRows"/>.</summary>
public sealed class FeedbackRowsWriter(LabelledRowsReader labelled, PipelineStorage storage)
{
    /// <summary>Share of labelled rows held out as recent data for the champion comparison.</summary>
    public const double RecentShare = 0.3;

    public static string Prefix(string model, string datasetVersion, string id) => $"{DatasetStore.Prefix(model, datasetVersion)}feedback/{id}/";

    /// <summary>The rows labelled in [from, to), in the columns of <paramref name="dataset"/>; null when there are none.</summary>
    public async Task<FeedbackRows?> WriteAsync(DatasetManifest dataset, string id, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var schema = dataset.Schema;
        var columns = schema.Columns;
        var train = new List<string?[]>();
        var recent = new List<string?[]>();
        await foreach (var row in labelled.ReadAsync(dataset.Model, from, to, ct: ct).ConfigureAwait(false))
        {
            var fields = new string?[columns.Count];
            for (var i = 0; i < columns.Count; i++)
            {
                var column = columns[i];
                if (column.Name == schema.Label) fields[i] = CellValues.Canonical(column.Kind, row.Label);
                else if (schema.Features.Contains(column.Name) && row.Inputs.TryGetValue(column.Name, out var value)) fields[i] = DriftInputs.Canonical(column.Kind, value, schema.DecimalSeparator);
            }
            if (fields[columns.ToList().FindIndex(c => c.Name == schema.Label)] is null) continue;
            var hash = DeterministicSample<string>.Hash(row.Prediction.RequestId, row.Prediction.Row);
            (hash < (ulong)(RecentShare * ulong.MaxValue) ? recent : train).Add(fields);
        }
        if (train.Count + recent.Count == 0) return null;
        var prefix = Prefix(dataset.Model, dataset.Version, id);
        var result = new FeedbackRows(prefix + "train.csv", prefix + "recent.csv", train.Count, recent.Count);
        await UploadAsync(result.TrainBlob, columns.Select(c => c.Name).ToArray(), train, ct).ConfigureAwait(false);
        await UploadAsync(result.RecentBlob, columns.Select(c => c.Name).ToArray(), recent, ct).ConfigureAwait(false);
        return result;
    }

    private async Task UploadAsync(string blob, string[] header, List<string?[]> rows, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await using (var writer = new StreamWriter(buffer, CanonicalCsv.Utf8, leaveOpen: true))
        {
            CanonicalCsv.WriteRecord(writer, header);
            foreach (var row in rows) CanonicalCsv.WriteRecord(writer, row);
        }
        buffer.Position = 0;
        await storage.Datasets.GetBlobClient(blob).UploadAsync(buffer, overwrite: true, ct).ConfigureAwait(false);
    }
}
