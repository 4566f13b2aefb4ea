using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Core.Training;

/// <summary>
/// Trains and scores models on dataset versions: the deterministic split, one candidate at a time, evaluation of a
/// stored model on a split, and the baseline a model must beat. Every operation uses one <see cref="MLContext"/>
/// seeded with the run's seed, so the same input gives the same model and metrics.
/// </summary>
public sealed partial class ModelTrainer(
    PipelineStorage storage,
    DatasetStore datasets,
    ExperimentRuns runs,
    IOptions<TrainingOptions> options,
    ILogger<ModelTrainer> logger)
{
    private readonly TrainingOptions _options = options.Value;

    /// <summary>The spec's candidates, or the defaults for the dataset's task, size and features (<see cref="DefaultCandidates"/>).</summary>
    public IReadOnlyList<CandidateSpec> Candidates(DatasetManifest dataset, ModelSpec spec) =>
        TrainerCatalog.Candidates(spec, DefaultCandidates.For(dataset.Schema.Task, dataset.Rows,
            dataset.Schema.Features.Any(f => dataset.Schema.Column(f).Kind == ColumnKind.Text)));

    /// <summary>
    /// Splits a dataset version into train, validation and test blobs. Each row's part is decided by a seeded hash of its
    /// position (streaming, deterministic); with a time column, rows are ordered by time and the newest go to test.
    /// </summary>
    public async Task<SplitRefs> SplitAsync(string model, string datasetVersion, int seed, string? timeColumn, CancellationToken ct)
    {
        _options.Validate();
        var (validationShare, testShare) = (_options.ValidationFraction, _options.TestFraction);
        var trainCut = 1 - validationShare - testShare;
        var validationCut = 1 - testShare;
        var manifest = await RequireDatasetAsync(model, datasetVersion, ct).ConfigureAwait(false);
        // The fractions are part of the split's name: a split made with other fractions is another split.
        var shares = string.Create(CultureInfo.InvariantCulture, $"-v{validationShare:0.####}-t{testShare:0.####}");
        // So is the time column it was ordered by (hashed: a column name may hold any character), and how it was ordered (o2: by the column's kind).
        var order = timeColumn is null ? "" : $"-time-o2-{NameParts.ShortHash(timeColumn)}";
        var prefix = $"{DatasetStore.Prefix(model, datasetVersion)}splits/s{seed}{shares}{order}/";
        var names = (Train: prefix + "train.csv", Validation: prefix + "validation.csv", Test: prefix + "test.csv");
        var counts = prefix + "counts.json";
        // A binary label's rows of each class per part, beside the counts (a split made before they were kept has none).
        var classCounts = prefix + "classes.json";
        if (await JsonBlobs.TryReadAsync<long[]>(storage.Datasets.GetBlobClient(counts), ct).ConfigureAwait(false) is { } existing)
        {
            var classes = await JsonBlobs.TryReadAsync<List<SplitClass>>(storage.Datasets.GetBlobClient(classCounts), ct).ConfigureAwait(false);
            return new SplitRefs(names.Train, names.Validation, names.Test, seed, existing.Value[0], existing.Value[1], existing.Value[2], validationShare, testShare, timeColumn,
                classes?.Value);
        }

        using var scratch = new Scratch(_options.ScratchDirectory);
        var source = await DownloadAsync(storage.Datasets, manifest.DataBlob, scratch, ct).ConfigureAwait(false);
        await DatasetIntegrity.VerifyAsync(source, manifest, ct).ConfigureAwait(false);
        var parts = new[] { scratch.File("train.csv"), scratch.File("validation.csv"), scratch.File("test.csv") };
        var rowCounts = new long[3];
        var schema = manifest.Schema;
        var binaryClasses = schema.Task == TaskKind.Binary && schema.Classes is { Count: 2 } two ? two : null;
        var classRows = new long[2, 3];
        var assignment = timeColumn is null ? null
            : await TimeOrderedAssignmentAsync(source, timeColumn, manifest.Schema.Column(timeColumn).Kind, trainCut, validationCut, ct).ConfigureAwait(false);

        var writers = parts.Select(p => new StreamWriter(p, false, CanonicalCsv.Utf8, 1 << 16)).ToArray();
        try
        {
            using var reader = CanonicalCsv.OpenReader(new StreamReader(source, Encoding.UTF8));
            var header = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
            var labelIndex = binaryClasses is null ? -1 : Array.IndexOf(header, schema.Label);
            foreach (var w in writers) CanonicalCsv.WriteRecord(w, header);
            var fields = new string?[reader.FieldCount];
            long row = 0;
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                for (var i = 0; i < fields.Length; i++) fields[i] = i < reader.RowFieldCount ? reader.GetString(i) : null;
                var part = assignment is not null ? assignment[row] : PartOf(seed, row, trainCut, validationCut);
                CanonicalCsv.WriteRecord(writers[part], fields);
                rowCounts[part]++;
                if (labelIndex >= 0)
                {
                    var value = fields[labelIndex];
                    if (value == binaryClasses![0]) classRows[0, part]++;
                    else if (value == binaryClasses[1]) classRows[1, part]++;
                }
                row++;
            }
        }
        finally
        {
            foreach (var w in writers) await w.DisposeAsync().ConfigureAwait(false);
        }

        await UploadFileAsync(storage.Datasets, names.Train, parts[0], ct).ConfigureAwait(false);
        await UploadFileAsync(storage.Datasets, names.Validation, parts[1], ct).ConfigureAwait(false);
        await UploadFileAsync(storage.Datasets, names.Test, parts[2], ct).ConfigureAwait(false);
        List<SplitClass>? splitClasses = binaryClasses is null ? null
            : [.. binaryClasses.Select((name, c) => new SplitClass(schema.ClassAsWritten(name), classRows[c, 0], classRows[c, 1], classRows[c, 2]))];
        // The class counts go first: a split whose counts exist is read back whole, and one without classes is read as made before them.
        if (splitClasses is not null) await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(classCounts), splitClasses, ct).ConfigureAwait(false);
        await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(counts), rowCounts, ct).ConfigureAwait(false);
        logger.LogInformation("Split {ModelName} {DatasetVersion} with seed {Seed}: {Train}/{Validation}/{Test} rows",
            model, datasetVersion, seed, rowCounts[0], rowCounts[1], rowCounts[2]);
        return new SplitRefs(names.Train, names.Validation, names.Test, seed, rowCounts[0], rowCounts[1], rowCounts[2], validationShare, testShare, timeColumn, splitClasses);
    }

    /// <summary>
    /// Trains one candidate on train, stores its model.zip and records the run with its selection metrics: scored on
    /// validation, or, when the input asks for folds (small data), the mean of a k-fold cross-validation on train and
    /// validation together, each fold's score kept in the run's <see cref="SelectionMeasure"/>.
    /// </summary>
    public async Task<CandidateResult> TrainCandidateAsync(CandidateInput input, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var manifest = await RequireDatasetAsync(input.Model, input.DatasetVersion, ct).ConfigureAwait(false);
        var schema = manifest.Schema;
        try
        {
            using var scratch = new Scratch(_options.ScratchDirectory);
            var train = await DownloadAsync(storage.Datasets, input.Splits.Train, scratch, ct).ConfigureAwait(false);
            var validation = await DownloadAsync(storage.Datasets, input.Splits.Validation, scratch, ct).ConfigureAwait(false);

            var distinct = await DistinctCountsAsync(manifest, ct).ConfigureAwait(false);
            var fitted = Fit(schema, distinct, input.Candidate, input.Splits.Seed, input.Splits.FitRows, train, ct);
            var ml = fitted.Ml;
            Dictionary<string, double> metrics;
            SelectionMeasure selection;
            if (input.CrossValidationFolds >= 2)
            {
                var both = scratch.File("train-validation.csv");
                await ConcatenateAsync([train, validation], both, ct).ConfigureAwait(false);
                (metrics, selection) = CrossValidate(schema, distinct, input.Candidate, input.Splits.Seed, input.CrossValidationFolds, input.Splits.FitRows, both, ct);
            }
            else
            {
                var scored = ml.Data.Cache(fitted.Model.Transform(fitted.Label.Transform(fitted.Loader.Load(validation))));
                metrics = ModelEvaluation.Evaluate(ml, schema, scored);
                selection = SelectionMeasure.OnValidation(input.Splits.ValidationRows, ScoreParts(ml, schema, scored, input.Splits.ValidationRows));
            }
            selection = selection with { ScoringCost = ScoringCost.Of(fitted.Model) };
            var blob = RunPrefix(input.Model, input.RunId) + "model.zip";
            var zip = scratch.File("model.zip");
            await using (var stream = File.Create(zip))
            {
                ml.Model.Save(fitted.Model, fitted.InputSchema, stream);
            }
            await UploadFileAsync(storage.Models, blob, zip, ct).ConfigureAwait(false);
            // What the run was trained on, kept beside its model so it can be registered by hand later.
            await JsonBlobs.WriteAsync(storage.Models.GetBlobClient(RunPrefix(input.Model, input.RunId) + RunInputBlobName), input, ct).ConfigureAwait(false);

            clock.Stop();
            Telemetry.PipelineMetrics.RecordTraining(input.Model, input.Candidate.Trainer, succeeded: true, clock.Elapsed);
            await runs.RecordAsync(new ExperimentRun(input.Model, input.RunId, input.OrchestrationId, input.DatasetVersion, input.Candidate.Trainer,
                input.Candidate.Parameters, metrics, RunStatus.Succeeded, clock.Elapsed.TotalMilliseconds, started, null, Selection: selection), ct).ConfigureAwait(false);
            logger.LogInformation("Trained {Candidate} for {ModelName} in {DurationMs:F0} ms, scored on {SelectionSet}: {Metrics}",
                input.Candidate, input.Model, clock.Elapsed.TotalMilliseconds, selection.Set, string.Join(", ", metrics.Select(m => $"{m.Key}={m.Value:G4}")));
            return new CandidateResult(input.RunId, input.Candidate, true, metrics, blob, clock.Elapsed.TotalMilliseconds, Selection: selection);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            clock.Stop();
            Telemetry.PipelineMetrics.RecordTraining(input.Model, input.Candidate.Trainer, succeeded: false, clock.Elapsed);
            await runs.RecordAsync(new ExperimentRun(input.Model, input.RunId, input.OrchestrationId, input.DatasetVersion, input.Candidate.Trainer,
                input.Candidate.Parameters, new Dictionary<string, double>(), RunStatus.Failed, clock.Elapsed.TotalMilliseconds, started, e.Message), ct).ConfigureAwait(false);
            logger.LogWarning(e, "Candidate {Candidate} of {ModelName} failed", input.Candidate, input.Model);
            throw;
        }
    }

    /// <summary>Scores a stored model (a candidate's or a registered version's model.zip) on a split blob.</summary>
    public async Task<EvaluationResult> EvaluateAsync(EvaluationInput input, CancellationToken ct)
    {
        var manifest = await RequireDatasetAsync(input.Model, input.DatasetVersion, ct).ConfigureAwait(false);
        using var scratch = new Scratch(_options.ScratchDirectory);
        var zip = await DownloadAsync(storage.Models, input.ModelBlob, scratch, ct).ConfigureAwait(false);
        var data = await DownloadAsync(storage.Datasets, input.DataBlob, scratch, ct).ConfigureAwait(false);
        var ml = FeaturePipeline.Context(input.Seed ?? _options.Seed);
        ITransformer model;
        DataViewSchema? modelInput;
        await using (var stream = File.OpenRead(zip))
        {
            model = ml.Model.Load(stream, out modelInput);
        }
        var loaded = FeaturePipeline.Loader(ml, manifest.Schema).Load(data);
        // A model fit on other data (a champion) may read a column this data version no longer gives its models: say which,
        // rather than ML.NET's "Could not find input column".
        var missing = modelInput?.Select(c => c.Name).Where(name => loaded.Schema.GetColumnOrNull(name) is null).ToList() ?? [];
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"it reads {(missing.Count == 1 ? "column" : "columns")} {string.Join(", ", missing.Select(m => $"'{m}'"))}, " +
                $"which dataset version {input.DatasetVersion} does not give its models (its spec excludes {(missing.Count == 1 ? "it" : "them")} or marks {(missing.Count == 1 ? "it" : "them")} sensitive, or the data lacks {(missing.Count == 1 ? "it" : "them")})");
        }
        var scored = model.Transform(FeaturePipeline.FitLabel(ml, manifest.Schema, loaded).Transform(loaded));
        var metrics = ModelEvaluation.Evaluate(ml, manifest.Schema, scored);
        if (!input.TestChance) return new EvaluationResult(input.ModelBlob, metrics, CountRows(scored));
        var (chance, interval) = ChanceTest.OnRows(manifest.Schema.Task, scored, input.Seed ?? _options.Seed, input.Metric, FeaturePipeline.PreparedLabel(manifest.Schema));
        return new EvaluationResult(input.ModelBlob, metrics, CountRows(scored), chance, interval);
    }

    /// <summary>The baseline: the mean of the train labels (regression) or the majority class, scored on test.</summary>
    public async Task<EvaluationResult> EvaluateBaselineAsync(string model, string datasetVersion, SplitRefs splits, CancellationToken ct)
    {
        var manifest = await RequireDatasetAsync(model, datasetVersion, ct).ConfigureAwait(false);
        using var scratch = new Scratch(_options.ScratchDirectory);
        var train = await ReadLabelsAsync(await DownloadAsync(storage.Datasets, splits.Train, scratch, ct).ConfigureAwait(false), manifest.Schema.Label, ct).ConfigureAwait(false);
        var test = await ReadLabelsAsync(await DownloadAsync(storage.Datasets, splits.Test, scratch, ct).ConfigureAwait(false), manifest.Schema.Label, ct).ConfigureAwait(false);
        var metrics = Baseline.Score(manifest.Schema, train, test);
        return new EvaluationResult("baseline", metrics, test.Count);
    }

    private static int PartOf(int seed, long row, double trainCut, double validationCut)
    {
        // SplitMix64 of (seed, row): a stable, well-mixed hash, the same on every platform and run.
        var z = unchecked((ulong)row * 0x9E3779B97F4A7C15UL + (ulong)(uint)seed * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        var unit = (z >> 11) * (1.0 / (1UL << 53));
        return unit < trainCut ? 0 : unit < validationCut ? 1 : 2;
    }

    /// <summary>
    /// Part of each row when ordered by the time column: the oldest rows train, then validation, the newest test. Values
    /// are read as the column's kind says, with ingestion's reading of cells (<see cref="CellValues"/>): a numeric column
    /// (epoch seconds, a week number) by value, a date by its instant, anything else as text. Rows without a time come
    /// first, so they train and are never judged as the newest.
    /// </summary>
    private static async Task<byte[]> TimeOrderedAssignmentAsync(string file, string timeColumn, ColumnKind kind, double trainCut, double validationCut, CancellationToken ct)
    {
        // A number and a date are kept apart: a date's ticks as a double would lose the microseconds that order close events.
        var keys = new List<(double Number, long Ticks, string Text, long Row)>();
        using (var reader = CanonicalCsv.OpenReader(new StreamReader(file, Encoding.UTF8)))
        {
            var index = reader.GetOrdinal(timeColumn);
            long row = 0;
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var text = reader.GetString(index);
                var missing = CellValues.IsMissing(text);
                var number = kind != ColumnKind.Numeric ? 0 : !missing && CellValues.TryNumber(text, out var n) ? n : double.NegativeInfinity;
                var ticks = kind != ColumnKind.DateTime ? 0 : !missing && CellValues.TryDate(text, out var date) ? date.UtcTicks : long.MinValue;
                keys.Add((number, ticks, missing ? "" : text, row++));
            }
        }
        var ordered = keys.OrderBy(k => k.Number).ThenBy(k => k.Ticks).ThenBy(k => k.Text, StringComparer.Ordinal).ThenBy(k => k.Row).ToList();
        var parts = new byte[keys.Count];
        for (var i = 0; i < ordered.Count; i++)
        {
            var share = (i + 0.5) / ordered.Count;
            parts[ordered[i].Row] = (byte)(share < trainCut ? 0 : share < validationCut ? 1 : 2);
        }
        return parts;
    }

    private static async Task<List<string?>> ReadLabelsAsync(string file, string label, CancellationToken ct)
    {
        var values = new List<string?>();
        using var reader = CanonicalCsv.OpenReader(new StreamReader(file, Encoding.UTF8));
        var index = reader.GetOrdinal(label);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var value = reader.GetString(index);
            values.Add(value.Length == 0 ? null : value);
        }
        return values;
    }

    private async Task<IReadOnlyDictionary<string, long>?> DistinctCountsAsync(DatasetManifest manifest, CancellationToken ct)
    {
        var profile = await datasets.GetProfileAsync(manifest, ct).ConfigureAwait(false);
        return profile?.Columns.ToDictionary(c => c.Name, c => c.Distinct);
    }

    private async Task<DatasetManifest> RequireDatasetAsync(string model, string version, CancellationToken ct) =>
        await datasets.GetManifestAsync(model, version, ct).ConfigureAwait(false)
            ?? throw new NotFoundException($"Model '{model}' has no dataset version '{version}'.");

    private static long CountRows(IDataView data)
    {
        long rows = 0;
        using var cursor = data.GetRowCursor([]);
        while (cursor.MoveNext()) rows++;
        return rows;
    }

    private static async Task<string> DownloadAsync(Azure.Storage.Blobs.BlobContainerClient container, string blob, Scratch scratch, CancellationToken ct)
    {
        var path = scratch.File(Path.GetFileName(blob));
        try
        {
            await container.GetBlobClient(blob).DownloadToAsync(path, ct).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
        {
            throw new NotFoundException($"Blob '{container.Name}/{blob}' does not exist.");
        }
        return path;
    }

    private static async Task UploadFileAsync(Azure.Storage.Blobs.BlobContainerClient container, string blob, string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        await container.GetBlobClient(blob).UploadAsync(stream, overwrite: true, ct).ConfigureAwait(false);
    }

    /// <summary>A private temporary folder, deleted when disposed.</summary>
    private sealed class Scratch : IDisposable
    {
        private readonly string _path;
        private int _counter;

        public Scratch(string? root)
        {
            _path = Path.Combine(root ?? Path.GetTempPath(), "mlops-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_path);
        }

        public string File(string name) => Path.Combine(_path, $"{Interlocked.Increment(ref _counter)}-{name}");

        public void Dispose()
        {
            try
            {
                Directory.Delete(_path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
