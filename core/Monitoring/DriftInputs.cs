using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Training;

namespace Serverless.Core.Monitoring;

/// <summary>The reference of a drift check: a deterministic sample of the production version's training data, and the version's answers on it.</summary>
public sealed record DriftReference(DatasetSchema Schema, long DatasetRows, IReadOnlyList<string?[]> Rows, double[]? Scores, string?[]? Labels, string? PredictionNote);

/// <summary>The current side: a deterministic sample of the logged rows in the window, as columns (the fields compared, the answering versions and their answers).</summary>
public sealed record DriftCurrent(long LoggedRows, LoggedColumns Rows);

/// <summary>Reads what a drift check compares: the reference from the dataset version, the current rows from the prediction log.</summary>
public sealed class DriftInputs(PipelineStorage storage, DatasetStore datasets, ModelRegistry registry, PredictionLogReader log)
{
    // The reference of each model's last check. A dataset version is content-addressed and a model version is verified
    // against its sha256, so the same (version, dataset version, size) always gives the same reference: a timer that
    // checks every hour reads and scores the training data once per production version, not once per check.
    private readonly ConcurrentDictionary<string, (ReferenceKey Key, DriftReference Reference)> _references = new(StringComparer.Ordinal);

    private readonly record struct ReferenceKey(string Version, string DatasetVersion, int MaxRows);

    /// <summary>How many times a reference was read from its dataset version (not served from the last check's).</summary>
    internal long ReferenceReads => Interlocked.Read(ref _referenceReads);

    private long _referenceReads;

    /// <summary>
    /// Up to <paramref name="maxRows"/> rows of the dataset version (all its columns, as the canonical file holds them),
    /// chosen by a hash of the row number, and the production version's outputs on them (null with a note when the
    /// version could not score them). Null when the dataset version is gone. The last complete reference of each model
    /// is kept and given again while the production version, its dataset version and <paramref name="maxRows"/> stay.
    /// </summary>
    public async Task<DriftReference?> ReadReferenceAsync(string model, ModelManifest production, int maxRows, CancellationToken ct)
    {
        var key = new ReferenceKey(production.Version, production.DatasetVersion, maxRows);
        if (_references.TryGetValue(model, out var kept) && kept.Key == key) return kept.Reference;
        var reference = await ReadReferenceFromDatasetAsync(model, production, maxRows, ct).ConfigureAwait(false);
        // A reference the version could not score (a note says why) may have met a passing fault: it is read again next time.
        if (reference is { PredictionNote: null }) _references[model] = (key, reference);
        else _references.TryRemove(model, out _);
        return reference;
    }

    private async Task<DriftReference?> ReadReferenceFromDatasetAsync(string model, ModelManifest production, int maxRows, CancellationToken ct)
    {
        Interlocked.Increment(ref _referenceReads);
        var manifest = await datasets.GetManifestAsync(model, production.DatasetVersion, ct).ConfigureAwait(false);
        if (manifest is null) return null;
        var sample = new DeterministicSample<string?[]>(maxRows);
        await using (var stream = await storage.Datasets.GetBlobClient(manifest.DataBlob).OpenReadAsync(cancellationToken: ct).ConfigureAwait(false))
        using (var text = new StreamReader(stream, CanonicalCsv.Utf8))
        using (var reader = CanonicalCsv.OpenReader(text))
        {
            ulong row = 0;
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var fields = new string?[reader.FieldCount];
                for (var i = 0; i < fields.Length; i++)
                {
                    var value = reader.GetString(i);
                    fields[i] = value.Length == 0 ? null : value;
                }
                sample.Offer(DeterministicSample<string?[]>.Hash(row++), fields);
            }
        }
        var rows = sample.Items();
        var (scores, labels, note) = await ScoreAsync(model, production, manifest.Schema, rows, ct).ConfigureAwait(false);
        return new DriftReference(manifest.Schema, manifest.Rows, rows, scores, labels, note);
    }

    /// <summary>
    /// Up to <paramref name="maxRows"/> entries that <paramref name="version"/> answered in [from, to), chosen by a hash
    /// of their request id and row, with their <paramref name="fields"/>. Rows another version answered (before this one
    /// took production, or scored in its shadow) are not its traffic: a version retrained on drift is not judged, and
    /// retrained again, on its predecessor's.
    /// </summary>
    public async Task<DriftCurrent> ReadCurrentAsync(string model, string version, DateTimeOffset from, DateTimeOffset to, int maxRows, IReadOnlyList<string> fields, CancellationToken ct)
    {
        var sample = await log.SampleAsync(model, from, to, maxRows, ct, version).ConfigureAwait(false);
        return new DriftCurrent(sample.Offered, LoggedColumns.Read(sample.Items(), fields));
    }

    /// <summary>The production version's answers on the reference rows: scores (regression) or labels (classification).</summary>
    private async Task<(double[]? Scores, string?[]? Labels, string? Note)> ScoreAsync(
        string model, ModelManifest production, DatasetSchema schema, IReadOnlyList<string?[]> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return (null, null, "The reference is empty.");
        var path = Path.Combine(Path.GetTempPath(), $"drift-{Guid.NewGuid():N}.csv");
        try
        {
            var (_, bytes) = await registry.LoadVerifiedAsync(model, production.Version, ct).ConfigureAwait(false);
            CanonicalCsv.WriteFile(path, [.. schema.Columns.Select(c => c.Name)], rows);
            var ml = FeaturePipeline.Context(0);
            var transformer = ml.Model.Load(new MemoryStream(bytes), out _);
            var scored = transformer.Transform(FeaturePipeline.Loader(ml, schema).Load(path));
            switch (schema.Task)
            {
                case TaskKind.Regression:
                    return ([.. scored.GetColumn<float>(ModelOutputs.ScoreColumn).Select(s => (double)s)], null, null);
                case TaskKind.Binary:
                    var classes = schema.Classes ?? ["false", "true"];
                    return (null, [.. scored.GetColumn<bool>(ModelOutputs.PredictedLabelColumn).Select(b => classes[b ? 1 : 0])], null);
                default:
                    return (null, [.. scored.GetColumn<ReadOnlyMemory<char>>(FeaturePipeline.PredictedClassColumn).Select(v => (string?)v.ToString())], null);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or InvalidDataException or IOException)
        {
            return (null, null, $"The production version's answers on the reference could not be computed ({e.Message}); no prediction drift.");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A logged input's text as a number (missing or not a number: NaN), read as predict read it for a model whose data
    /// writes numbers with <paramref name="mark"/>: a JSON number (logged with a point) as it is, a JSON string (logged as
    /// it was sent) with the mark ("78,5", and "11.463" as 11463, for a decimal-comma model).
    /// </summary>
    public static double Number(string? text, bool sentAsString, char mark) =>
        text is not null && (sentAsString ? CellValues.TryNumber(text.AsSpan(), mark, out var n) : CellValues.TryNumber(text, out n)) ? n : double.NaN;

    /// <summary>The logged values of <paramref name="field"/> as numbers (<see cref="Number"/>).</summary>
    public static double[] Numbers(LoggedColumns rows, string field, char mark)
    {
        var values = rows.Of(field);
        var strings = rows.StringsOf(field);
        var numbers = new double[values.Count];
        for (var i = 0; i < numbers.Length; i++) numbers[i] = Number(values[i], strings[i], mark);
        return numbers;
    }

    /// <summary>
    /// A logged input as the canonical data file holds the cell of a column of <paramref name="kind"/> (null: missing),
    /// read as predict read it: a JSON number as it is, a string with the decimal mark the model's data was read with.
    /// </summary>
    public static string? Canonical(ColumnKind kind, JsonElement value, char mark) =>
        CellValues.TextOf(value) is not { } text ? null
        : kind == ColumnKind.Numeric && value.ValueKind == JsonValueKind.String ? CellValues.Canonical(kind, text, mark)
        : CellValues.Canonical(kind, text);

    /// <summary>A logged input's text as the canonical data file would hold it for a column of <paramref name="kind"/> (null: missing).</summary>
    public static string? Category(string? text, ColumnKind kind) => text is null ? null : CellValues.Canonical(kind, text);
}
