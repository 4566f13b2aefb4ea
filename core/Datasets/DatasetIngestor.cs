using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Api;
using Serverless.Core.Hosting;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;
using Serverless.Core.Training;

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
    DatasetStore datasets,
    AuditLog audit,
    IOptions<IngestionOptions> options,
    ILogger<DatasetIngestor> logger)
{
    private static readonly string[] DataExtensions = [".csv", ".tsv", ".txt"];
    private readonly IngestionOptions _options = options.Value;

    public async Task<IngestionOutcome> IngestAsync(string blobName, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var blob = storage.Incoming.GetBlobClient(blobName);
        BlobProperties properties;
        try
        {
            properties = (await blob.GetPropertiesAsync(cancellationToken: ct).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
        {
            return new IngestionOutcome(IngestionStatus.Ignored, "", blobName, null, null, [], "The blob was deleted before it could be read.");
        }

        using var scratch = new ScratchFolder();
        var original = scratch.File("original");
        if (await DownloadAsync(blob, properties.ETag, original, ct).ConfigureAwait(false) is not { } downloaded)
        {
            // Overwritten or deleted after its properties were read: the bytes that would be ingested are not the ones
            // the ETag names. A newer version has an ETag of its own and is handled on its own.
            return new IngestionOutcome(IngestionStatus.Ignored, "", blobName, null, null, [], "The blob changed while it was being read; its newer version is handled separately.");
        }
        var (sha, bytes) = downloaded;
        var upload = new Upload(blobName, properties.ETag.ToString(), properties.LastModified, bytes, sha, original);

        var (model, file, nameProblem) = ParseName(blobName);
        if (nameProblem is not null)
        {
            return await QuarantineAsync(model ?? "_invalid", upload, new Rejection("invalid_blob_name", nameProblem), ct).ConfigureAwait(false);
        }
        try
        {
            if (file == ModelSpecStore.FileName) return await IngestSpecAsync(model!, upload, ct).ConfigureAwait(false);
            var extension = DataExtension(file!);
            if (extension is null)
            {
                throw new Rejection("unsupported_extension",
                    $"'{file}' is not a data file this pipeline reads; use .csv, .tsv or .txt (optionally .gz), or model.json for the spec.");
            }
            return await IngestDataAsync(model!, upload, file!.EndsWith(".gz", StringComparison.OrdinalIgnoreCase), scratch, ct).ConfigureAwait(false);
        }
        catch (Rejection rejection)
        {
            return await QuarantineAsync(model!, upload, rejection, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A dropped spec comes into force through <see cref="SpecIntake"/>; one that fails is quarantined with every reason, and the spec in force stays.</summary>
    private async Task<IngestionOutcome> IngestSpecAsync(string model, Upload upload, CancellationToken ct)
    {
        SpecVersion version;
        try
        {
            version = await specIntake.AcceptAsync(model, await File.ReadAllBytesAsync(upload.Path, ct).ConfigureAwait(false), "upload", $"{storage.Incoming.Name}/{upload.BlobName}", null, ct).ConfigureAwait(false);
        }
        catch (InvalidSpecException e)
        {
            throw new Rejection("spec_invalid", $"{e.Message} The spec in force is unchanged.");
        }
        return new IngestionOutcome(IngestionStatus.SpecUpdated, model, upload.BlobName, null, null, [], $"Spec version {version.Version} of '{model}' was read from {upload.BlobName} and is in force.");
    }

    private async Task<IngestionOutcome> IngestDataAsync(string model, Upload upload, bool gzip, ScratchFolder scratch, CancellationToken ct)
    {
        var specVersion = await specs.GetCurrentAsync(model, ct).ConfigureAwait(false);
        var spec = specVersion?.Spec ?? new ModelSpec();
        var text = upload.Path;
        if (gzip)
        {
            text = scratch.File("decompressed");
            try
            {
                await using var input = new GZipStream(File.OpenRead(upload.Path), CompressionMode.Decompress);
                await using var output = File.Create(text);
                await DecompressAsync(input, output, _options.MaxDecompressedBytes, ct).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                throw new Rejection("invalid_gzip", $"The file ends in .gz but is not valid gzip: {e.Message}");
            }
        }
        var prior = await datasets.GetLatestAsync(model, ct).ConfigureAwait(false);
        var local = ProcessFile(text, spec, prior, scratch.File("data.csv"), ct);
        var (schema, canonical, sha, rows, profile, first) = (local.Schema, local.CanonicalPath, local.Sha256, local.Rows, local.Profile, local.First);

        var version = "ds-" + sha[..16];
        if (await datasets.GetManifestAsync(model, version, ct).ConfigureAwait(false) is { } existing)
        {
            logger.LogInformation("{BlobName} holds the same data as {DatasetVersion}", upload.BlobName, version);
            await audit.RecordAsync(AuditActions.Duplicate, model, "upload", $"{upload.BlobName} holds the data of {version}", new { upload.BlobName, DatasetVersion = version }, ct).ConfigureAwait(false);
            return new IngestionOutcome(IngestionStatus.Duplicate, model, upload.BlobName, existing.Version, null, [],
                $"{upload.BlobName} holds the same data as dataset version {existing.Version}; nothing new to train on.");
        }

        var prefix = DatasetStore.Prefix(model, version);
        ETag dataETag;
        await using (var stream = File.OpenRead(canonical))
        {
            dataETag = (await storage.Datasets.GetBlobClient(prefix + "data.csv").UploadAsync(stream, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } }, ct).ConfigureAwait(false)).Value.ETag;
        }
        await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(prefix + "profile.json"), profile with { Model = model, DatasetVersion = version }, ct).ConfigureAwait(false);
        var policy = spec.Policy ?? DataPolicy.Replace;
        var manifest = new DatasetManifest
        {
            Model = model,
            Version = version,
            Sha256 = sha,
            CreatedAt = DateTimeOffset.UtcNow,
            Schema = schema,
            Rows = rows,
            RowsRejected = first.RejectedRows,
            Sources = [.. (policy == DataPolicy.Append && prior is not null ? prior.Sources : []),
                new DatasetSource(upload.BlobName, upload.ETag, upload.UploadedAt ?? DateTimeOffset.UtcNow, upload.Bytes, upload.Sha256)],
            PreviousVersion = prior?.Version,
            Policy = policy,
            Spec = SpecSnapshot.Of(specVersion),
            DataBlob = prefix + "data.csv",
            DataETag = dataETag.ToString(),
            ProfileBlob = prefix + "profile.json",
        };
        try
        {
            await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(DatasetStore.ManifestBlob(model, version)), manifest, ct, createOnly: true).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (JsonBlobs.IsConcurrencyConflict(e))
        {
            return new IngestionOutcome(IngestionStatus.Duplicate, model, upload.BlobName, version, null, [], $"Dataset version {version} was written at the same time by another upload.");
        }
        await JsonBlobs.WriteAsync(storage.Datasets.GetBlobClient(DatasetStore.LatestBlob(model)), new LatestDataset(version, DateTimeOffset.UtcNow), ct).ConfigureAwait(false);
        await audit.RecordAsync(AuditActions.Ingested, model, "upload", $"new data in {upload.BlobName}", new { upload.BlobName, DatasetVersion = version, Rows = rows, first.RejectedRows, schema.Label, schema.Task }, ct).ConfigureAwait(false);
        logger.LogInformation("Accepted {BlobName} as {ModelName} {DatasetVersion}: {Rows} rows, {RejectedRows} rejected, label {Label}, task {Task}",
            upload.BlobName, model, version, rows, first.RejectedRows, schema.Label, schema.Task);
        return new IngestionOutcome(IngestionStatus.Accepted, model, upload.BlobName, version, null, first.RejectedRows > 0 ? ["rows_rejected"] : [],
            $"Accepted {rows} rows as dataset version {version}{(first.RejectedRows > 0 ? $"; {first.RejectedRows} rows were rejected (see the manifest)" : "")}.");
    }

    /// <summary>The result of checking, profiling and canonicalizing one local file.</summary>
    internal sealed record LocalResult(DatasetSchema Schema, string CanonicalPath, string Sha256, long Rows, DatasetProfile Profile, FirstPassResult First);

    /// <summary>
    /// Checks, profiles and canonicalizes a local delimited text file without touching storage (beyond reading the
    /// previous version's rows when appending). The canonical data goes to <paramref name="output"/>, unless the input is
    /// canonical already: then the result names the input file itself. Throws <see cref="Rejection"/> for a file that must
    /// be quarantined.
    /// </summary>
    internal LocalResult ProcessFile(string text, ModelSpec spec, DatasetManifest? prior, string output, CancellationToken ct)
    {
        CheckBytes(text);
        var sniffLines = ReadSniffLines(text);
        if (sniffLines.Count == 0) throw new Rejection("empty_file", "The file holds only blank lines.");
        var delimiter = CsvSniffer.Delimiter(sniffLines)
            ?? throw new Rejection("no_delimiter", "No comma, semicolon, tab or pipe separates the columns of the first lines; a dataset needs at least a label and one feature column.");
        var sniffRows = sniffLines.Select(l => (IReadOnlyList<string>)CsvSniffer.Split(l, delimiter)).ToList();
        var hasHeader = spec.HasHeader ?? (spec.ColumnNames is null && CsvSniffer.HasHeader(sniffRows));

        var first = FirstPass(text, delimiter, hasHeader, spec, prior, output + ".raw");
        DatasetSchema schema;
        try
        {
            schema = DecideSchema(first, spec, prior);
        }
        catch (Rejection rejection) when (rejection.Problems is null)
        {
            rejection.Problems = first.Problems;
            throw;
        }
        var sensitive = new HashSet<string>(schema.Sensitive, StringComparer.Ordinal);
        var append = (spec.Policy ?? DataPolicy.Replace) == DataPolicy.Append && prior is not null;
        if (!append && !NeedsNormalizing(schema, first.Stats))
        {
            if (first.RawPath != text) File.Move(first.RawPath, output, overwrite: true);
            else output = text;
            var profile = new DatasetProfile
            {
                Model = "", DatasetVersion = "", Rows = first.AcceptedRows,
                Columns = [.. schema.Columns.Select((c, i) => first.Stats[i].Profile(c.Kind, sensitive.Contains(c.Name)))],
            };
            return new LocalResult(schema, output, first.RawSha256, first.AcceptedRows, profile, first);
        }
        var (canonical, sha, rows, finalProfile) = Normalize(first, schema, append ? prior : null, output, ct);
        if (first.RawPath != text) File.Delete(first.RawPath);
        return new LocalResult(schema, canonical, sha, rows, finalProfile, first);
    }

    /// <summary>Rejects an empty file and binary content (a NUL byte in the first MiB); UTF-8 validity is checked while reading.</summary>
    private static void CheckBytes(string path)
    {
        var info = new FileInfo(path);
        if (info.Length == 0) throw new Rejection("empty_file", "The file is empty.");
        var buffer = new byte[(int)Math.Min(info.Length, 1 << 20)];
        using var stream = File.OpenRead(path);
        var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        var nul = Array.IndexOf(buffer, (byte)0, 0, read);
        if (nul >= 0) throw new Rejection("binary_content", $"The file holds binary data (a NUL byte at offset {nul}); upload delimited text.");
    }

    private List<string> ReadSniffLines(string path)
    {
        var lines = new List<string>();
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var line = new StringBuilder();
        int c;
        while (lines.Count < 50 && (c = reader.Read()) >= 0)
        {
            if (c == '\n')
            {
                lines.Add(line.ToString().TrimEnd('\r'));
                line.Clear();
            }
            else if (line.Length < _options.MaxRecordChars) line.Append((char)c);
            else throw new Rejection("line_too_long", $"The first lines are longer than {_options.MaxRecordChars:N0} characters; is the file delimited text with line breaks?");
        }
        if (line.Length > 0) lines.Add(line.ToString().TrimEnd('\r'));
        return lines.Where(l => l.Trim().Length > 0).ToList();
    }

    /// <summary>
    /// The one pass over the upload: reads the header, checks every row, counts and profiles every column, and writes
    /// the accepted rows (trimmed, missing tokens emptied) as canonical CSV while hashing it. Rows come in batches: a
    /// batch's rows are checked first, then each column takes its values of the batch in one loop (in row order, so the
    /// statistics are those of a row-by-row pass), then the accepted rows are written in order.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private FirstPassResult FirstPass(string path, char delimiter, bool hasHeader, ModelSpec spec, DatasetManifest? prior, string rawOutput)
    {
        var problems = new ProblemLog(_options.SamplesPerProblem);
        string[]? header = null;
        ColumnStatistics[] stats = [];
        int labelIndex = -1;
        long dataRows = 0, rejected = 0, accepted = 0;
        var sensitive = new HashSet<string>(spec.Sensitive ?? [], StringComparer.Ordinal);
        RowRules? rules = null;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            using var sink = new CanonicalSink(path, rawOutput, sha);
            using var reader = new Utf8CsvReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1), delimiter, _options.MaxRecordChars);
            reader.BeforeBufferChange = sink.FlushRun;
            var row = new RecordBuffer<byte>(1024);
            var fates = new RowFate[BatchSize];
            var keptRecords = new int[BatchSize];
            var notable = new List<(int Record, ValueOutcome Outcome)>();
            var events = new List<(long Record, int Column, string Code, string Detail, string? Sample)>();
            int count;
            while ((count = reader.ReadBatch(BatchSize)) > 0)
            {
                for (var r = 0; r < count; r++)
                {
                    fates[r] = RowFate.Skipped;
                    if (reader.FieldCount(r) == 1 && reader[r, 0].IsEmpty) continue;
                    if (header is null)
                    {
                        var names = reader.GetStrings(r);
                        header = hasHeader ? names : [.. (spec.ColumnNames ?? prior?.Schema.Columns.Select(c => c.Name).ToList() ?? Enumerable.Range(1, names.Length).Select(i => $"column{i}").ToList())];
                        CheckHeader(header);
                        stats = [.. header.Select(h => new ColumnStatistics(h, _options.DistinctLimit))];
                        labelIndex = LabelIndex(header, spec);
                        rules = new RowRules(header, labelIndex, spec, delimiter);
                        if (hasHeader && reader.IsCanonical(r)) sink.AppendRun(reader.Buffer, reader.RecordStart(r), reader.RecordLength(r), reader.FileOffset(r));
                        else
                        {
                            for (var c = 0; c < header.Length; c++)
                            {
                                if (c > 0) row.Append((byte)',');
                                CanonicalSink.AppendField(row, Encoding.UTF8.GetBytes(header[c]));
                            }
                            row.Append((byte)'\n');
                            sink.Write(row.Written);
                            row.Clear();
                        }
                        if (hasHeader) continue;
                    }
                    dataRows++;
                    var problem = reader.FieldCount(r) == header.Length && !rules!.HasRanges && !CellValues.IsMissing(reader[r, labelIndex]) ? null : rules!.Check(reader, r);
                    if (problem is not null)
                    {
                        rejected++;
                        var sample = problem.Value.Column is { } col && sensitive.Contains(header[col]) ? null : problem.Value.Sample;
                        events.Add((reader.RecordNumber(r), -1, problem.Value.Code, problem.Value.Detail, sample));
                        continue;
                    }
                    fates[r] = reader.IsCanonical(r) ? RowFate.AsRead : RowFate.Rewritten;
                }
                var kept = 0;
                for (var r = 0; r < count; r++)
                {
                    if (fates[r] != RowFate.Skipped) keptRecords[kept++] = r;
                }
                for (var c = 0; c < stats.Length; c++)
                {
                    stats[c].AddColumn(reader, c, keptRecords.AsSpan(0, kept), notable);
                    foreach (var (r, outcome) in notable)
                    {
                        if (outcome == ValueOutcome.Missing)
                        {
                            if (!reader[r, c].IsEmpty) fates[r] = RowFate.Rewritten;
                            continue;
                        }
                        var text = reader.GetString(r, c);
                        events.Add((reader.RecordNumber(r), c, "non_finite_values", $"'{header![c]}' holds {text}", sensitive.Contains(header[c]) ? null : CellValues.Escape(text)));
                    }
                    notable.Clear();
                }
                if (events.Count > 0)
                {
                    events.Sort((a, b) => a.Record != b.Record ? a.Record.CompareTo(b.Record) : a.Column.CompareTo(b.Column));
                    foreach (var e in events) problems.Add(e.Code, e.Record, e.Detail, e.Sample);
                    events.Clear();
                }
                for (var r = 0; r < count; r++)
                {
                    if (fates[r] == RowFate.Skipped) continue;
                    accepted++;
                    if (fates[r] == RowFate.AsRead)
                    {
                        sink.AppendRun(reader.Buffer, reader.RecordStart(r), reader.RecordLength(r), reader.FileOffset(r));
                        continue;
                    }
                    for (var c = 0; c < stats.Length; c++)
                    {
                        if (c > 0) row.Append((byte)',');
                        var value = reader[r, c];
                        if (!CellValues.IsMissing(value)) CanonicalSink.AppendField(row, value);
                    }
                    row.Append((byte)'\n');
                    sink.Write(row.Written);
                    row.Clear();
                }
            }
            if (header is not null && dataRows > 0)
            {
                sink.Complete();
                if (sink.IsInput) rawOutput = path;
            }
        }
        catch (CsvInputException e) when (e.Problem == CsvInputProblem.RecordTooLarge)
        {
            throw new Rejection("line_too_long", $"A record is longer than {_options.MaxRecordChars:N0} characters; the limit keeps memory bounded. Check for a missing line break or an unterminated quote.");
        }
        catch (CsvInputException e) when (e.Problem == CsvInputProblem.Malformed)
        {
            throw new Rejection("unterminated_quote", $"The file is not well-formed delimited text: {e.Message} A quoted field must end with a quote.");
        }
        catch (CsvInputException e) when (e.Problem == CsvInputProblem.InvalidEncoding)
        {
            throw new Rejection("invalid_encoding", "The file is not UTF-8 (it holds byte sequences UTF-8 does not allow); save it as UTF-8 and upload it again.");
        }
        if (header is null) throw new Rejection("empty_file", "The file holds no rows.");
        if (dataRows == 0) throw new Rejection("header_only", $"The file has a header ({string.Join(", ", header.Take(10).Select(CellValues.Escape))}) but no data rows.");
        return new FirstPassResult(header, stats, labelIndex, dataRows, rejected, problems, rules!, rawOutput, Convert.ToHexStringLower(sha.GetHashAndReset()), accepted);
    }

    private const int BatchSize = 1024;

    /// <summary>What becomes of a record of a batch: nothing (blank, header or rejected), written as read, or rewritten canonically.</summary>
    private enum RowFate : byte { Skipped, AsRead, Rewritten }

    /// <summary>Whether canonical values differ from the raw ones: booleans spelt other than true/false, or non-numbers in a column the spec made numeric.</summary>
    private static bool NeedsNormalizing(DatasetSchema schema, ColumnStatistics[] stats) =>
        schema.Columns.Select((c, i) => (c, s: stats[i])).Any(x =>
            (x.c.Kind == ColumnKind.Boolean && x.s.Distinct.Keys.Any(k => k is not ("true" or "false")))
            || (x.c.Kind == ColumnKind.Numeric && x.s.Numbers + x.s.NonFinite < x.s.Present));

    private static void CheckHeader(string[] header)
    {
        var duplicates = header.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
        {
            throw new Rejection("duplicate_columns", $"Column names appear more than once: {string.Join(", ", duplicates.Select(CellValues.Escape))}. Rename them so each column has its own name.");
        }
        var empty = header.Select((h, i) => (h, i)).Where(x => x.h.Length == 0).Select(x => x.i + 1).ToList();
        if (empty.Count > 0) throw new Rejection("empty_column_name", $"Column(s) {string.Join(", ", empty)} have no name in the header row.");
    }

    private static int LabelIndex(string[] header, ModelSpec spec)
    {
        if (spec.Label is { } label)
        {
            var index = Array.IndexOf(header, label);
            if (index < 0)
            {
                throw new Rejection("label_missing", $"The spec names the label '{CellValues.Escape(label)}', but the file has no such column (it has {string.Join(", ", header.Take(20).Select(CellValues.Escape))}).");
            }
            return index;
        }
        var named = Array.FindIndex(header, h => h.Equals("label", StringComparison.OrdinalIgnoreCase));
        return named >= 0 ? named : header.Length - 1;
    }

    /// <summary>Column kinds, label, task, classes and feature roles, checked against the spec and the previous version.</summary>
    private DatasetSchema DecideSchema(FirstPassResult first, ModelSpec spec, DatasetManifest? prior)
    {
        var header = first.Header;
        var inferred = new List<string>();
        var problems = first.Problems;
        var labelName = header[first.LabelIndex];
        if (spec.Label is null) inferred.Add(header[first.LabelIndex].Equals("label", StringComparison.OrdinalIgnoreCase) ? $"label: '{labelName}' (the column named label)" : $"label: '{labelName}' (the last column)");

        var columns = new List<ColumnSchema>();
        foreach (var stat in first.Stats)
        {
            if (spec.Columns?.TryGetValue(stat.Name, out var kind) == true) columns.Add(new ColumnSchema(stat.Name, kind, Inferred: false));
            else columns.Add(new ColumnSchema(stat.Name, stat.InferKind()));
        }

        var label = first.Stats[first.LabelIndex];
        var labelKind = columns[first.LabelIndex].Kind;
        TaskKind task;
        if (spec.Task is { } t) task = t;
        else
        {
            var distinct = label.Distinct.Count;
            task = labelKind == ColumnKind.Numeric && (distinct > 10 || label.Integers < label.Numbers) && distinct > 2 ? TaskKind.Regression
                : distinct == 2 ? TaskKind.Binary
                : TaskKind.Multiclass;
            inferred.Add($"task: {task.ToString().ToLowerInvariant()} ({distinct}{(label.DistinctOverflow ? "+" : "")} distinct label values{(labelKind == ColumnKind.Numeric ? ", numeric" : "")})");
        }

        if (label.Present > 0 && label.Distinct.Count == 1 && !label.DistinctOverflow)
        {
            throw new Rejection("label_constant", $"The label '{CellValues.Escape(labelName)}' has one value only ({CellValues.Escape(label.Distinct.Keys.First())}); a model cannot learn from it.");
        }
        if (label.NonFinite > 0) throw new Rejection("non_finite_values", $"The label '{CellValues.Escape(labelName)}' holds {label.NonFinite} infinite value(s).");
        IReadOnlyList<string>? classes = null;
        if (task == TaskKind.Regression)
        {
            if (label.Numbers != label.Present) throw new Rejection("label_not_numeric", $"Regression needs a numeric label, but '{CellValues.Escape(labelName)}' holds {label.Present - label.Numbers} non-numeric value(s).");
        }
        else
        {
            if (label.DistinctOverflow || label.Distinct.Count > _options.MaxClasses)
            {
                throw new Rejection("label_too_many_classes", $"Classification with more than {_options.MaxClasses} classes in '{CellValues.Escape(labelName)}' is not supported; set \"task\": \"regression\" if the label is a quantity.");
            }
            if (task == TaskKind.Binary && label.Distinct.Count != 2)
            {
                throw new Rejection("label_not_binary", $"A binary task needs exactly two label values; '{CellValues.Escape(labelName)}' has {label.Distinct.Count}.");
            }
            classes = OrderClasses(label.Distinct.Keys, task);
        }

        var sensitive = (spec.Sensitive ?? []).Where(header.Contains).ToList();
        var excluded = (spec.Exclude ?? []).Where(header.Contains).ToList();
        var missing = (spec.Sensitive ?? []).Concat(spec.Exclude ?? []).Where(c => !header.Contains(c)).ToList();
        if (missing.Count > 0) inferred.Add($"the spec names columns the file does not have: {string.Join(", ", missing.Select(CellValues.Escape))}");
        var features = new List<string>();
        for (var i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            var stat = first.Stats[i];
            if (i == first.LabelIndex || sensitive.Contains(c.Name) || excluded.Contains(c.Name)) continue;
            if (stat.Present == 0) throw new Rejection("column_all_missing", $"Column '{CellValues.Escape(c.Name)}' has no value in any row; remove it, or list it under \"exclude\" in the spec.");
            if (stat.NonFinite > 0 && c.Kind == ColumnKind.Numeric)
            {
                throw new Rejection("non_finite_values", $"Column '{CellValues.Escape(c.Name)}' holds {stat.NonFinite} infinite value(s); replace them with numbers or leave the cells empty.");
            }
            if (stat.Missing > _options.MaxMissingShare * stat.Count)
            {
                throw new Rejection("too_many_missing", $"Column '{CellValues.Escape(c.Name)}' is missing in {stat.Missing} of {stat.Count} rows (over {_options.MaxMissingShare:P0}); exclude it in the spec or fill it.");
            }
            if (c.Kind == ColumnKind.DateTime)
            {
                inferred.Add($"'{c.Name}' is a date/time column and is not used as a feature");
                continue;
            }
            features.Add(c.Name);
        }
        if (features.Count == 0) throw new Rejection("no_features", "No column is left to learn from once the label, excluded and sensitive columns are set aside.");

        if (first.RejectedRows > _options.MaxInvalidRowShare * first.DataRows)
        {
            throw new Rejection("too_many_invalid_rows", $"{first.RejectedRows} of {first.DataRows} rows are unusable (over the {_options.MaxInvalidRowShare:P0} allowed); see the problems listed in the report.", problems);
        }

        if (prior is not null)
        {
            var now = columns.ToDictionary(c => c.Name);
            var gone = prior.Schema.Columns.Where(c => !now.ContainsKey(c.Name)).Select(c => c.Name).ToList();
            if (gone.Count > 0)
            {
                var added = columns.Where(c => prior.Schema.Columns.All(p => p.Name != c.Name)).Select(c => c.Name).ToList();
                throw new Rejection("schema_mismatch", $"Columns of the previous dataset version {prior.Version} are missing: {string.Join(", ", gone.Select(CellValues.Escape))}{(added.Count > 0 ? $" (new columns: {string.Join(", ", added.Select(CellValues.Escape))}; renamed?)" : "")}.");
            }
            var changed = prior.Schema.Columns.Where(p => now[p.Name].Kind != p.Kind && !(p.Kind == ColumnKind.Categorical && now[p.Name].Kind == ColumnKind.Numeric))
                .Select(p => $"'{p.Name}' was {p.Kind.ToString().ToLowerInvariant()}, is now {now[p.Name].Kind.ToString().ToLowerInvariant()}").ToList();
            if (changed.Count > 0) throw new Rejection("schema_mismatch", $"Column types changed since dataset version {prior.Version}: {string.Join("; ", changed)}. Set the kinds in the spec's \"columns\" if the change is intended.");
            if (prior.Schema.Label != labelName) throw new Rejection("schema_mismatch", $"The label was '{prior.Schema.Label}' in dataset version {prior.Version} and is '{labelName}' now.");
        }

        return new DatasetSchema
        {
            Columns = columns,
            Label = labelName,
            Task = task,
            Features = features,
            Excluded = excluded,
            Sensitive = sensitive,
            Classes = classes,
            TimeColumn = spec.TimeColumn,
            Inferred = inferred,
        };
    }

    /// <summary>Classes sorted (see <see cref="CompareClasses"/>); for a binary label the positive-looking value goes second.</summary>
    /// <summary>
    /// A total order of class values: numbers first, by value (ties, such as "1" and "1.0", ordinally), then the rest
    /// ordinally. Comparing numbers by value and text ordinally in one comparison would not be transitive when a label
    /// mixes them ("2" &lt; "1e5" &lt; "1f" &lt; "2"), and the sort could throw.
    /// </summary>
    internal static int CompareClasses(string a, string b)
    {
        var aNumber = CellValues.TryNumber(a, out var x);
        var bNumber = CellValues.TryNumber(b, out var y);
        if (aNumber != bNumber) return aNumber ? -1 : 1;
        var byValue = aNumber ? x.CompareTo(y) : 0;
        return byValue != 0 ? byValue : string.CompareOrdinal(a, b);
    }

    private static IReadOnlyList<string> OrderClasses(IEnumerable<string> values, TaskKind task)
    {
        var list = values.ToList();
        list.Sort(CompareClasses);
        if (task == TaskKind.Binary)
        {
            static bool Positive(string v) => v.ToLowerInvariant() is "1" or "true" or "yes" or "y" or "t" or "positive" or "pos";
            if (Positive(list[0]) && !Positive(list[1])) list.Reverse();
        }
        return list;
    }

    /// <summary>
    /// The second pass, when needed: writes the final canonical CSV (the previous version's rows first when appending,
    /// values normalized to the schema's kinds), hashes it and profiles it afresh.
    /// </summary>
    private (string Path, string Sha256, long Rows, DatasetProfile Profile) Normalize(
        FirstPassResult first, DatasetSchema schema, DatasetManifest? appendTo, string output, CancellationToken ct)
    {
        var sensitive = new HashSet<string>(schema.Sensitive, StringComparer.Ordinal);
        var stats = schema.Columns.Select(c => new ColumnStatistics(c.Name, _options.DistinctLimit)).ToArray();
        long rows = 0;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var file = File.Create(output))
        using (var hashing = new HashingStream(file, sha))
        using (var writer = new StreamWriter(hashing, CanonicalCsv.Utf8, 1 << 16))
        {
            CanonicalCsv.WriteRecord(writer, [.. schema.Columns.Select(c => c.Name)]);
            var fields = new string?[schema.Columns.Count];
            void Emit(Func<int, string> value)
            {
                for (var i = 0; i < fields.Length; i++)
                {
                    fields[i] = CellValues.Canonical(schema.Columns[i].Kind, value(i));
                    stats[i].Add((fields[i] ?? "").AsSpan());
                }
                CanonicalCsv.WriteRecord(writer, fields);
                rows++;
            }
            if (appendTo is not null)
            {
                using var stream = storage.Datasets.GetBlobClient(appendTo.DataBlob).OpenRead(cancellationToken: ct);
                using var prior = CanonicalCsv.OpenReader(new StreamReader(stream, Encoding.UTF8));
                var map = schema.Columns.Select(c => prior.GetOrdinal(c.Name)).ToArray();
                while (prior.Read()) Emit(i => prior.GetString(map[i]));
            }
            using var raw = CanonicalCsv.OpenReader(new StreamReader(first.RawPath, Encoding.UTF8));
            while (raw.Read()) Emit(i => raw.GetString(i));
        }
        var profile = new DatasetProfile
        {
            Model = "", DatasetVersion = "", Rows = rows,
            Columns = [.. schema.Columns.Select((c, i) => stats[i].Profile(c.Kind, sensitive.Contains(c.Name)))],
        };
        return (output, Convert.ToHexStringLower(sha.GetHashAndReset()), rows, profile);
    }

    /// <summary>Keeps a rejected file whole in quarantine with a JSON report and a one-paragraph summary, and audits it.</summary>
    private async Task<IngestionOutcome> QuarantineAsync(string model, Upload upload, Rejection rejection, CancellationToken ct)
    {
        var safeName = SafeName(upload.BlobName.Split('/')[^1]);
        var stamp = (upload.UploadedAt ?? DateTimeOffset.UtcNow).UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var etagHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(upload.BlobName + upload.ETag)))[..8];
        var prefix = $"{model}/{stamp}-{etagHash}-{safeName}/";
        var summary = $"The file '{CellValues.Escape(upload.BlobName)}' ({upload.Bytes:N0} bytes) was not accepted for model '{model}': {rejection.Message} " +
                      $"It is kept unchanged at {storage.Quarantine.Name}/{prefix}original. Fix the file and upload it again under any name in incoming/{model}/.";
        var report = new
        {
            Blob = upload.BlobName,
            upload.ETag,
            upload.Sha256,
            upload.Bytes,
            UploadedAt = upload.UploadedAt,
            QuarantinedAt = DateTimeOffset.UtcNow,
            ReasonCodes = new[] { rejection.Code },
            Reason = rejection.Message,
            Problems = rejection.Problems?.Entries ?? [],
            Summary = summary,
        };
        await using (var original = File.OpenRead(upload.Path))
        {
            await storage.Quarantine.GetBlobClient(prefix + "original").UploadAsync(original, overwrite: true, ct).ConfigureAwait(false);
        }
        await JsonBlobs.WriteAsync(storage.Quarantine.GetBlobClient(prefix + "report.json"), report, ct).ConfigureAwait(false);
        await storage.Quarantine.GetBlobClient(prefix + "summary.txt").UploadAsync(BinaryData.FromString(summary), overwrite: true, ct).ConfigureAwait(false);
        await audit.RecordAsync(AuditActions.Quarantine, model, "upload", rejection.Message, new { upload.BlobName, Reason = rejection.Code, Location = prefix }, ct).ConfigureAwait(false);
        logger.LogWarning("Quarantined {BlobName} as {ReasonCode}: {Reason}", upload.BlobName, rejection.Code, rejection.Message);
        return new IngestionOutcome(IngestionStatus.Quarantined, model, upload.BlobName, null, prefix, [rejection.Code], summary);
    }

    /// <summary>Splits <c>{model}/{file}</c>; names with traversal, encoded separators or control characters are refused.</summary>
    internal static (string? Model, string? File, string? Problem) ParseName(string blobName)
    {
        var parts = blobName.Split('/');
        var model = parts.Length > 0 && ModelNames.IsValid(parts[0]) ? parts[0] : null;
        if (parts.Length != 2) return (model, null, $"Blob names in the drop zone are '{{model}}/{{file}}'; '{CellValues.Escape(blobName)}' has {parts.Length - 1} separator(s).");
        if (model is null) return (null, null, $"'{CellValues.Escape(parts[0])}' is not a valid model name: {ModelNames.Rule}.");
        var file = parts[1];
        if (file.Length == 0 || file is "." or ".." || file.Contains("..", StringComparison.Ordinal) || file.Contains('\\') || file.Any(char.IsControl))
        {
            return (model, null, $"The file name '{CellValues.Escape(file)}' is not allowed (traversal, backslash or control characters).");
        }
        if (file.Contains('%') && Uri.UnescapeDataString(file) != file)
        {
            return (model, null, $"The file name '{CellValues.Escape(file)}' holds URL-encoded characters; upload it under a plain name.");
        }
        return (model, file, null);
    }

    private static string? DataExtension(string file)
    {
        var name = file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? file[..^3] : file;
        return DataExtensions.FirstOrDefault(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    private static string SafeName(string name)
    {
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()).Replace("..", "_", StringComparison.Ordinal).Trim('.');
        return safe.Length == 0 ? "file" : safe[..Math.Min(safe.Length, 80)];
    }

    /// <summary>Copies decompressed bytes, stopping with a rejection once they pass <paramref name="limit"/>.</summary>
    private static async Task DecompressAsync(Stream input, Stream output, long limit, CancellationToken ct)
    {
        var buffer = new byte[1 << 20];
        long written = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            written += read;
            if (written > limit)
            {
                throw new Rejection("decompressed_too_large",
                    $"The file decompresses to more than {limit:N0} bytes (Pipeline:Ingestion:MaxDecompressedBytes); split it into smaller files or raise the limit.");
            }
            await output.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Downloads exactly the version of the blob that <paramref name="etag"/> names; null when it is gone or has changed.</summary>
    internal static async Task<(string Sha256, long Bytes)?> DownloadAsync(Azure.Storage.Blobs.BlobClient blob, ETag etag, string path, CancellationToken ct)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes;
        await using (var file = File.Create(path))
        await using (var hashing = new HashingStream(file, sha))
        {
            try
            {
                await blob.DownloadToAsync(hashing, new BlobDownloadToOptions { Conditions = new BlobRequestConditions { IfMatch = etag } }, ct).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 412 || e.ErrorCode == BlobErrorCode.BlobNotFound)
            {
                return null;
            }
            bytes = file.Length;
        }
        return (Convert.ToHexStringLower(sha.GetHashAndReset()), bytes);
    }

    private sealed record Upload(string BlobName, string ETag, DateTimeOffset? UploadedAt, long Bytes, string Sha256, string Path);

    internal sealed record FirstPassResult(
        string[] Header, ColumnStatistics[] Stats, int LabelIndex, long DataRows, long RejectedRows, ProblemLog Problems, RowRules Rules,
        string RawPath, string RawSha256, long AcceptedRows);

    /// <summary>Why a file is refused: a reason code, a message a person can act on, and the row-level problems seen.</summary>
    internal sealed class Rejection(string code, string message, ProblemLog? problems = null) : Exception(message)
    {
        public string Code { get; } = code;
        public ProblemLog? Problems { get; set; } = problems;
    }

    /// <summary>A temporary folder deleted when disposed.</summary>
    private sealed class ScratchFolder : IDisposable
    {
        private readonly string _path = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingest-" + Guid.NewGuid().ToString("N"))).FullName;

        public string File(string name) => Path.Combine(_path, name);

        public void Dispose()
        {
            try { Directory.Delete(_path, recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>The checks a row must pass to be kept: as many fields as the header, a label, values within the spec's ranges.</summary>
internal sealed class RowRules(string[] header, int labelIndex, ModelSpec spec, char delimiter)
{
    private readonly (int Index, ValueRange Range)[] _ranges =
        [.. (spec.Ranges ?? []).Select(r => (Array.IndexOf(header, r.Key), r.Value)).Where(r => r.Item1 >= 0)];

    public bool HasRanges => _ranges.Length > 0;

    public (string Code, string Detail, string? Sample, int? Column)? Check(Utf8CsvReader values, int record)
    {
        var count = values.FieldCount(record);
        if (count != header.Length)
        {
            return ("ragged_rows", $"{count} fields where the header has {header.Length}", string.Join(delimiter, values.GetStrings(record).Take(8).Select(CellValues.Escape)), null);
        }
        if (CellValues.IsMissing(values[record, labelIndex]))
        {
            return ("label_missing_in_row", $"no value in the label column '{header[labelIndex]}'", null, labelIndex);
        }
        foreach (var (index, range) in _ranges)
        {
            if (CellValues.TryNumber(values[record, index], out var v) && (v < range.Min || v > range.Max))
            {
                var text = CellValues.Escape(values.GetString(record, index));
                return ("value_out_of_range", $"'{header[index]}' = {text} is outside [{range.Min?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-inf"}, {range.Max?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "inf"}]", text, index);
            }
        }
        return null;
    }
}

/// <summary>Row-level problems: counted per code, with the first line numbers and samples kept for the report.</summary>
public sealed class ProblemLog(int samplesPerProblem)
{
    private readonly Dictionary<string, ProblemEntry> _entries = new(StringComparer.Ordinal);

    public IReadOnlyList<ProblemEntry> Entries => [.. _entries.Values];

    public void Add(string code, long line, string detail, string? sample)
    {
        if (!_entries.TryGetValue(code, out var entry)) _entries[code] = entry = new ProblemEntry(code);
        entry.Count++;
        if (entry.Lines.Count < samplesPerProblem)
        {
            entry.Lines.Add(line);
            entry.Details.Add(detail);
            if (sample is not null) entry.Samples.Add(sample);
        }
    }
}

/// <summary>One kind of row-level problem in a file.</summary>
public sealed class ProblemEntry(string code)
{
    public string Code { get; } = code;
    public long Count { get; set; }
    public List<long> Lines { get; } = [];
    public List<string> Details { get; } = [];
    public List<string> Samples { get; } = [];
}

/// <summary>A write-through stream that feeds an incremental hash.</summary>
internal sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count)
    {
        hash.AppendData(buffer, offset, count);
        inner.Write(buffer, offset, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        hash.AppendData(buffer);
        inner.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        hash.AppendData(buffer.Span);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
