using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Storage;

namespace Serverless.Core.Training;

/// <summary>Fitting a candidate, refitting the winner on train plus validation, and the rows a champion never saw.</summary>
public sealed partial class ModelTrainer
{
    /// <summary>Name of the blob beside a candidate's model.zip that holds its <see cref="CandidateInput"/>.</summary>
    public const string RunInputBlobName = "run.json";

    /// <summary>Name of the blob beside a fitted model.zip that holds the hashes of the rows it was fit on (<see cref="RowHashes"/>).</summary>
    public const string FitRowsBlobName = "fit-rows.bin";

    /// <summary>Where a run's blobs live in the models container.</summary>
    public static string RunPrefix(string model, string runId) => $"{model}/runs/{runId}/";

    /// <summary>The input a candidate run was trained with, or null when the run kept none (or never ran).</summary>
    public async Task<CandidateInput?> GetRunInputAsync(string model, string runId, CancellationToken ct) =>
        (await JsonBlobs.TryReadAsync<CandidateInput>(storage.Models.GetBlobClient(RunPrefix(model, runId) + RunInputBlobName), ct).ConfigureAwait(false))?.Value;

    /// <summary>
    /// Fits the winning candidate again, on train and validation together, with the same parameters and seed: validation
    /// chose it, and more rows make a better model. Writes its model.zip and the hashes of the rows it saw under the run.
    /// </summary>
    public async Task<ModelFit> RefitAsync(RefitInput input, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var manifest = await RequireDatasetAsync(input.Model, input.DatasetVersion, ct).ConfigureAwait(false);
        using var scratch = new Scratch(_options.ScratchDirectory);
        var train = await DownloadAsync(storage.Datasets, input.Splits.Train, scratch, ct).ConfigureAwait(false);
        var validation = await DownloadAsync(storage.Datasets, input.Splits.Validation, scratch, ct).ConfigureAwait(false);
        var both = scratch.File("fit.csv");
        var hashes = await ConcatenateAsync([train, validation], both, ct).ConfigureAwait(false);

        var fitted = Fit(manifest.Schema, await DistinctCountsAsync(manifest, ct).ConfigureAwait(false), input.Candidate, input.Splits.Seed, input.Splits.FitRows, both, ct);
        var prefix = RunPrefix(input.Model, input.RunId);
        var zip = scratch.File("model.zip");
        await using (var stream = File.Create(zip))
        {
            fitted.Ml.Model.Save(fitted.Model, fitted.InputSchema, stream);
        }
        await UploadFileAsync(storage.Models, prefix + "model.zip", zip, ct).ConfigureAwait(false);
        await hashes.WriteAsync(storage.Models.GetBlobClient(prefix + FitRowsBlobName), ct).ConfigureAwait(false);
        clock.Stop();
        logger.LogInformation("Refit {Candidate} of {ModelName} on {Rows} train and validation rows in {DurationMs:F0} ms",
            input.Candidate, input.Model, hashes.Count, clock.Elapsed.TotalMilliseconds);
        return new ModelFit(input.RunId, FitSets.TrainAndValidation, input.Splits.TrainRows + input.Splits.ValidationRows,
            prefix + "model.zip", prefix + FitRowsBlobName, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>The fit of a candidate trained on the train split only; writes the hashes of its rows beside its model.</summary>
    public async Task<ModelFit> DescribeTrainFitAsync(CandidateInput input, CancellationToken ct)
    {
        using var scratch = new Scratch(_options.ScratchDirectory);
        var train = await DownloadAsync(storage.Datasets, input.Splits.Train, scratch, ct).ConfigureAwait(false);
        var hashes = await HashRowsAsync(train, ct).ConfigureAwait(false);
        var prefix = RunPrefix(input.Model, input.RunId);
        await hashes.WriteAsync(storage.Models.GetBlobClient(prefix + FitRowsBlobName), ct).ConfigureAwait(false);
        return new ModelFit(input.RunId, FitSets.Train, input.Splits.TrainRows, prefix + "model.zip", prefix + FitRowsBlobName);
    }

    /// <summary>
    /// The rows of a run's test split that the champion was not fit on, written next to the split; challenger and
    /// champion are both scored on them. Without the champion's row hashes nothing can be left out, and the set says so.
    /// </summary>
    public async Task<ComparisonSet> PrepareComparisonAsync(ComparisonInput input, CancellationToken ct)
    {
        var seen = input.ChampionRowHashesBlob is null ? null
            : await RowHashes.TryReadAsync(storage.Models.GetBlobClient(input.ChampionRowHashesBlob), ct).ConfigureAwait(false);
        if (seen is null)
        {
            return new ComparisonSet(input.ChampionVersion, input.Splits.Test, input.Splits.TestRows, 0, ChampionRowsKnown: false);
        }
        var blob = input.Splits.Test[..(input.Splits.Test.LastIndexOf('/') + 1)] + $"test-unseen-by-{input.ChampionVersion}.csv";
        using var scratch = new Scratch(_options.ScratchDirectory);
        var test = await DownloadAsync(storage.Datasets, input.Splits.Test, scratch, ct).ConfigureAwait(false);
        var kept = scratch.File("unseen.csv");
        long rows = 0, excluded = 0;
        await using (var writer = new StreamWriter(kept, false, CanonicalCsv.Utf8, 1 << 16))
        {
            await foreach (var (header, fields, hash) in ReadRowsAsync(test, ct).ConfigureAwait(false))
            {
                if (rows == 0 && excluded == 0) CanonicalCsv.WriteRecord(writer, header);
                if (seen.Contains(hash))
                {
                    excluded++;
                    continue;
                }
                CanonicalCsv.WriteRecord(writer, fields);
                rows++;
            }
        }
        await UploadFileAsync(storage.Datasets, blob, kept, ct).ConfigureAwait(false);
        logger.LogInformation("{ModelName}: {Rows} test rows of {DatasetVersion} unseen by {ChampionVersion}, {Excluded} it was fit on left out",
            input.Model, rows, input.DatasetVersion, input.ChampionVersion, excluded);
        return new ComparisonSet(input.ChampionVersion, blob, rows, excluded, ChampionRowsKnown: true);
    }

    /// <summary>A fitted pipeline: the model, the label transform applied before it, the loader and the input schema it is saved with.</summary>
    private sealed record Fitted(MLContext Ml, ITransformer Model, ITransformer Label, Microsoft.ML.Data.TextLoader Loader, DataViewSchema InputSchema);

    /// <summary>
    /// Fits one candidate on a canonical CSV with one <see cref="MLContext"/> seeded with the run's seed;
    /// <paramref name="runRows"/> as for <see cref="TrainerCatalog.Estimator"/>.
    /// </summary>
    private static Fitted Fit(DatasetSchema schema, IReadOnlyDictionary<string, long>? distinct, CandidateSpec candidate, int seed, long runRows, string file, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var ml = FeaturePipeline.Context(seed);
        var loader = FeaturePipeline.Loader(ml, schema);
        var data = loader.Load(file);
        var (model, label) = Fit(ml, schema, distinct, candidate, seed, data, runRows);
        return new Fitted(ml, model, label, loader, data.Schema);
    }

    /// <summary>
    /// Fits one candidate on loaded rows: the label transform, the featurization and the trainer, as served.
    /// </summary>
    /// <exception cref="NoSplitException">LightGBM (alone or in a blend) found no split in the features.</exception>
    internal static (ITransformer Model, ITransformer Label) Fit(MLContext ml, DatasetSchema schema, IReadOnlyDictionary<string, long>? distinct,
        CandidateSpec candidate, int seed, IDataView data, long? runRows = null)
    {
        var label = FeaturePipeline.FitLabel(ml, schema, data);
        var estimator = TrainerCatalog.Estimator(ml, schema, distinct, candidate, seed, TrainerCatalog.NeedsRowCount(candidate) ? CountRows(data) : 0, runRows);
        try
        {
            return (FitAsServed(ml, schema, estimator, label.Transform(data)), label);
        }
        catch (Exception e) when (NoSplitException.Explains(e))
        {
            throw new NoSplitException(candidate.Trainer == Blend.Name ? $"{Blend.Name}'s LightGbm member" : candidate.Trainer, e);
        }
    }

    /// <summary>
    /// Fits a featurization and trainer on labelled rows as a served model is fit: a multiclass model also maps its
    /// predicted key back to the class's name.
    /// </summary>
    internal static ITransformer FitAsServed(MLContext ml, DatasetSchema schema, IEstimator<ITransformer> estimator, IDataView labelled) =>
        schema.Task == TaskKind.Multiclass
            ? estimator.Append(ml.Transforms.Conversion.MapKeyToValue(FeaturePipeline.PredictedClassColumn, ModelOutputs.PredictedLabelColumn)).Fit(labelled)
            : estimator.Fit(labelled);

    /// <summary>
    /// Scores a candidate by k-fold cross-validation on a canonical CSV (train and validation together): ML.NET's
    /// <c>CrossValidationSplit</c> makes the folds from a seeded random number per row, so every candidate of a run sees the
    /// same folds; each fold is fit and scored with the same pipeline and metrics as a candidate on validation. (The
    /// catalogs' <c>CrossValidate</c> would score with metrics of their own, and for binary tasks needs calibrated
    /// probabilities, which FastForest does not give.)
    /// </summary>
    private static (Dictionary<string, double> Mean, SelectionMeasure Measure) CrossValidate(DatasetSchema schema, IReadOnlyDictionary<string, long>? distinct,
        CandidateSpec candidate, int seed, int folds, long runRows, string file, CancellationToken ct)
    {
        var ml = FeaturePipeline.Context(seed);
        var data = FeaturePipeline.Loader(ml, schema).Load(file);
        var scores = new List<FoldScore>();
        foreach (var fold in ml.Data.CrossValidationSplit(data, folds, seed: seed))
        {
            ct.ThrowIfCancellationRequested();
            var (model, label) = Fit(ml, schema, distinct, candidate, seed, fold.TrainSet, runRows);
            var scored = model.Transform(label.Transform(fold.TestSet));
            scores.Add(new FoldScore(CountRows(fold.TestSet), ModelEvaluation.Evaluate(ml, schema, scored)));
        }
        return SelectionMeasure.OfFolds(scores);
    }

    /// <summary>
    /// The scores of the validation split's consecutive parts (<see cref="SelectionMeasure.PartsFor"/>), the same rows for
    /// every candidate of a run: paired, they say whether two candidates differ by more than chance (<see cref="CandidateChoice"/>).
    /// Null when the split is too small to cut.
    /// </summary>
    private static List<FoldScore>? ScoreParts(MLContext ml, DatasetSchema schema, IDataView scored, long rows)
    {
        var parts = SelectionMeasure.PartsFor(rows);
        if (parts == 0) return null;
        var scores = new List<FoldScore>(parts);
        for (var k = 0; k < parts; k++)
        {
            long start = k * rows / parts, end = (k + 1) * rows / parts;
            var part = ml.Data.TakeRows(start == 0 ? scored : ml.Data.SkipRows(scored, start), end - start);
            scores.Add(new FoldScore(end - start, ModelEvaluation.Evaluate(ml, schema, part)));
        }
        return scores;
    }

    /// <summary>Writes the rows of several canonical CSVs (same header) into one, and returns their hashes.</summary>
    private static async Task<RowHashes> ConcatenateAsync(IReadOnlyList<string> files, string target, CancellationToken ct)
    {
        var hashes = new List<ulong>();
        await using var writer = new StreamWriter(target, false, CanonicalCsv.Utf8, 1 << 16);
        var first = true;
        foreach (var file in files)
        {
            var headerWritten = !first;
            await foreach (var (header, fields, hash) in ReadRowsAsync(file, ct).ConfigureAwait(false))
            {
                if (!headerWritten)
                {
                    CanonicalCsv.WriteRecord(writer, header);
                    headerWritten = true;
                }
                CanonicalCsv.WriteRecord(writer, fields);
                hashes.Add(hash);
            }
            if (first && !headerWritten)
            {
                // An empty first part still gives the file its header.
                using var reader = CanonicalCsv.OpenReader(new StreamReader(file, Encoding.UTF8));
                CanonicalCsv.WriteRecord(writer, [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)]);
            }
            first = false;
        }
        return RowHashes.From(hashes);
    }

    private static async Task<RowHashes> HashRowsAsync(string file, CancellationToken ct)
    {
        var hashes = new List<ulong>();
        await foreach (var (_, _, hash) in ReadRowsAsync(file, ct).ConfigureAwait(false)) hashes.Add(hash);
        return RowHashes.From(hashes);
    }

    /// <summary>The rows of a canonical CSV with its header and each row's <see cref="RowHashes.Of"/>.</summary>
    private static async IAsyncEnumerable<(string[] Header, string?[] Fields, ulong Hash)> ReadRowsAsync(
        string file, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        int[]? order = null;
        await foreach (var (header, fields) in CanonicalCsv.ReadRecordsAsync(file, ct).ConfigureAwait(false))
        {
            order ??= RowHashes.NameOrder(header);
            yield return (header, fields, RowHashes.Of(header, fields, order));
        }
    }
}
