using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Serving;

/// <summary>Serving settings, bound from <c>Pipeline:Serving</c>.</summary>
public sealed class PredictionOptions
{
    public const string Section = "Pipeline:Serving";

    /// <summary>How often each model's <c>production</c> alias is re-read; a change is loaded in the background and swapped in.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    public int MaxRows { get; set; } = 1000;
}

/// <summary>The answer to a prediction request: the version that answered and one prediction per row.</summary>
public sealed record PredictionResponse(string Model, string ModelVersion, IReadOnlyList<RowPrediction> Predictions);

/// <summary>One row's prediction: a score (regression, binary), a class label and per-class probabilities (classification).</summary>
public sealed record RowPrediction(double? Score, string? Label, IReadOnlyDictionary<string, double>? Probabilities);

/// <summary>
/// Serves predictions from each model's production version. Models are loaded once (sha256-verified) and kept; the
/// production alias is re-checked every <see cref="PredictionOptions.RefreshInterval"/> and a new version is loaded in
/// the background and swapped in atomically, so requests in flight finish on the version they started with and no
/// request waits for a load after the first. Scoring is a batch transform over the request's rows: thread-safe, no
/// shared prediction engine.
/// </summary>
public sealed class PredictionService(ModelRegistry registry, IOptions<PredictionOptions> options, ILogger<PredictionService> logger)
{
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly PredictionOptions _options = options.Value;

    /// <summary>The loaded version of each model.</summary>
    public IReadOnlyDictionary<string, string> Loaded =>
        _slots.Where(s => s.Value.Current is not null).ToDictionary(s => s.Key, s => s.Value.Current!.Version);

    public async Task<PredictionResponse> PredictAsync(string model, JsonElement body, CancellationToken ct)
    {
        var rows = RowsOf(body);
        var loaded = await GetAsync(model, ct).ConfigureAwait(false);
        var csv = PredictionInput.ToCsv(loaded.Manifest.Schema, rows);
        return new PredictionResponse(model, loaded.Version, loaded.Score(csv));
    }

    /// <summary>Re-reads the production alias now and loads the version it names, if it changed.</summary>
    public async Task RefreshAsync(string model, CancellationToken ct)
    {
        var slot = _slots.GetOrAdd(model, _ => new Slot());
        await RefreshSlotAsync(model, slot, wait: true, ct).ConfigureAwait(false);
    }

    internal async Task<LoadedModel> GetAsync(string model, CancellationToken ct)
    {
        var slot = _slots.GetOrAdd(model, _ => new Slot());
        var current = slot.Current;
        if (current is not null)
        {
            if (DateTime.UtcNow - slot.CheckedAt > _options.RefreshInterval)
            {
                _ = Task.Run(() => RefreshSlotAsync(model, slot, wait: false, CancellationToken.None), CancellationToken.None);
            }
            return current;
        }
        await RefreshSlotAsync(model, slot, wait: true, ct).ConfigureAwait(false);
        return slot.Current ?? throw new NotFoundException(await NotServableMessageAsync(model, ct).ConfigureAwait(false));
    }

    private async Task RefreshSlotAsync(string model, Slot slot, bool wait, CancellationToken ct)
    {
        if (wait) await slot.Gate.WaitAsync(ct).ConfigureAwait(false);
        else if (!await slot.Gate.WaitAsync(0, ct).ConfigureAwait(false)) return;
        try
        {
            var version = await registry.ResolveAliasAsync(model, ModelRegistry.Production, ct).ConfigureAwait(false);
            if (version is not null && version != slot.Current?.Version)
            {
                var (manifest, bytes) = await registry.LoadVerifiedAsync(model, version, ct).ConfigureAwait(false);
                var next = LoadedModel.Create(manifest, bytes);
                var previous = slot.Current?.Version;
                slot.Current = next;
                logger.LogInformation("Serving {ModelName} {ModelVersion} (was {PreviousVersion})", model, version, previous ?? "none");
            }
            slot.CheckedAt = DateTime.UtcNow;
        }
        catch (Exception e) when (!wait && e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Background refresh of {ModelName} failed; still serving {ModelVersion}", model, slot.Current?.Version);
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    private async Task<string> NotServableMessageAsync(string model, CancellationToken ct) =>
        await registry.GetAsync(model, ct).ConfigureAwait(false) is null
            ? $"There is no model '{model}'. Drop a data file into incoming/{model}/ to train one, or check the name."
            : $"Model '{model}' has no production version yet; a training run may still be going, or awaiting approval.";

    private List<JsonElement> RowsOf(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new BadRequestException($"The body must be a JSON object (one row) or {{\"rows\": [...]}}, not {body.ValueKind.ToString().ToLowerInvariant()}.");
        }
        if (!body.TryGetProperty("rows", out var rows)) return [body];
        if (rows.ValueKind != JsonValueKind.Array)
        {
            throw new BadRequestException("'rows' must be an array of objects.", new Dictionary<string, string[]> { ["rows"] = ["must be an array"] });
        }
        var list = rows.EnumerateArray().ToList();
        if (list.Count == 0) throw new BadRequestException("'rows' is empty; send at least one row.", new Dictionary<string, string[]> { ["rows"] = ["empty"] });
        if (list.Count > _options.MaxRows)
        {
            throw new BadRequestException($"{list.Count} rows is more than the {_options.MaxRows} one request may hold; split the request.",
                new Dictionary<string, string[]> { ["rows"] = [$"at most {_options.MaxRows}"] });
        }
        var errors = list.Select((r, i) => (r, i)).Where(x => x.r.ValueKind != JsonValueKind.Object)
            .ToDictionary(x => $"rows[{x.i}]", x => new[] { "must be an object" });
        if (errors.Count > 0) throw new BadRequestException("Every row must be a JSON object.", errors);
        return list;
    }

    private sealed class Slot
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        private LoadedModel? _current;

        public LoadedModel? Current
        {
            get => Volatile.Read(ref _current);
            set => Volatile.Write(ref _current, value);
        }

        public DateTime CheckedAt;
    }
}

/// <summary>A loaded model version: its transformer and the loader that reads request rows exactly as training read data.</summary>
internal sealed class LoadedModel
{
    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly TextLoader _loader;

    private LoadedModel(ModelManifest manifest, MLContext ml, ITransformer model)
    {
        Manifest = manifest;
        _ml = ml;
        _model = model;
        _loader = FeaturePipeline.Loader(ml, manifest.Schema, withLabel: false);
    }

    public ModelManifest Manifest { get; }
    public string Version => Manifest.Version;

    public static LoadedModel Create(ModelManifest manifest, byte[] zip)
    {
        var ml = new MLContext(manifest.Reproducibility.Seed);
        using var stream = new MemoryStream(zip, writable: false);
        return new LoadedModel(manifest, ml, ml.Model.Load(stream, out _));
    }

    /// <summary>Scores canonical CSV rows (with a header) and reads the predictions out.</summary>
    public IReadOnlyList<RowPrediction> Score(string csv)
    {
        var scored = _model.Transform(_loader.Load(new TextSource(csv)));
        var schema = Manifest.Schema;
        switch (schema.Task)
        {
            case TaskKind.Regression:
                return [.. scored.GetColumn<float>("Score").Select(s => new RowPrediction(s, null, null))];
            case TaskKind.Binary:
            {
                var classes = schema.Classes!;
                var labels = scored.GetColumn<bool>("PredictedLabel").ToList();
                var scores = scored.GetColumn<float>("Score").ToList();
                var probabilities = scored.Schema.GetColumnOrNull("Probability") is null ? null : scored.GetColumn<float>("Probability").ToList();
                return [.. labels.Select((l, i) => new RowPrediction(
                    scores[i],
                    l ? classes[1] : classes[0],
                    probabilities is null ? null : new Dictionary<string, double> { [classes[0]] = 1 - probabilities[i], [classes[1]] = probabilities[i] }))];
            }
            default:
            {
                var names = ClassNames(scored, schema);
                var labels = scored.GetColumn<ReadOnlyMemory<char>>(FeaturePipeline.PredictedClassColumn).Select(l => l.ToString()).ToList();
                var scores = scored.GetColumn<VBuffer<float>>("Score").ToList();
                return [.. labels.Select((l, i) =>
                {
                    var values = scores[i].DenseValues().ToArray();
                    var probabilities = new Dictionary<string, double>();
                    for (var k = 0; k < values.Length && k < names.Count; k++) probabilities[names[k]] = values[k];
                    return new RowPrediction(null, l, probabilities);
                })];
            }
        }
    }

    private static IReadOnlyList<string> ClassNames(IDataView scored, DatasetSchema schema)
    {
        var column = scored.Schema["Score"];
        if (column.HasSlotNames())
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            column.GetSlotNames(ref names);
            var list = names.DenseValues().Select(n => n.ToString()).ToList();
            if (list.All(n => n.Length > 0)) return list;
        }
        return schema.Classes ?? [];
    }

    /// <summary>An in-memory text the ML.NET loader reads as if it were a file.</summary>
    private sealed class TextSource(string text) : IMultiStreamSource
    {
        public int Count => 1;
        public string? GetPathOrNull(int index) => null;
        public Stream Open(int index) => new MemoryStream(Encoding.UTF8.GetBytes(text), writable: false);
        public TextReader OpenTextReader(int index) => new StringReader(text);
    }
}

/// <summary>Validates request rows against a model's schema and writes them as canonical CSV for the model's loader.</summary>
internal static class PredictionInput
{
    public static string ToCsv(DatasetSchema schema, IReadOnlyList<JsonElement> rows)
    {
        var errors = new Dictionary<string, string[]>();
        var allowed = new HashSet<string>(schema.Columns.Select(c => c.Name), StringComparer.Ordinal);
        var features = new HashSet<string>(schema.Features, StringComparer.Ordinal);
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        CanonicalCsv.WriteRecord(writer, [.. schema.Columns.Select(c => c.Name)]);
        var fields = new string?[schema.Columns.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            string Field(string name) => rows.Count == 1 ? name : $"rows[{r}].{name}";
            Array.Clear(fields);
            foreach (var property in rows[r].EnumerateObject())
            {
                if (!allowed.Contains(property.Name))
                {
                    errors[Field(property.Name)] = [$"unknown column; the model takes {string.Join(", ", schema.Features)}"];
                    continue;
                }
                if (!features.Contains(property.Name)) continue;
                var index = IndexOf(schema, property.Name);
                if (TryFormat(schema.Columns[index].Kind, property.Value, out var text, out var problem)) fields[index] = text;
                else errors[Field(property.Name)] = [problem!];
            }
            CanonicalCsv.WriteRecord(writer, fields);
        }
        if (errors.Count > 0)
        {
            throw new BadRequestException($"{errors.Count} field(s) of the request do not fit the model: {string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value[0]}"))}.", errors);
        }
        return writer.ToString();
    }

    private static int IndexOf(DatasetSchema schema, string name)
    {
        for (var i = 0; i < schema.Columns.Count; i++) if (schema.Columns[i].Name == name) return i;
        return -1;
    }

    private static bool TryFormat(ColumnKind kind, JsonElement value, out string? text, out string? problem)
    {
        text = null;
        problem = null;
        if (value.ValueKind == JsonValueKind.Null) return true;
        switch (kind)
        {
            case ColumnKind.Numeric:
                if (value.ValueKind == JsonValueKind.Number) { text = CanonicalCsv.Number(value.GetDouble()); return true; }
                if (value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
                {
                    text = CanonicalCsv.Number(d);
                    return true;
                }
                problem = $"expected a number, got {Describe(value)}";
                return false;
            case ColumnKind.Boolean:
                if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) { text = value.GetBoolean() ? "true" : "false"; return true; }
                if (value.ValueKind == JsonValueKind.String && bool.TryParse(value.GetString(), out var b)) { text = b ? "true" : "false"; return true; }
                if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n is 0 or 1) { text = n == 1 ? "true" : "false"; return true; }
                problem = $"expected true or false, got {Describe(value)}";
                return false;
            default:
                if (value.ValueKind == JsonValueKind.String) { text = value.GetString(); return true; }
                if (value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False) { text = value.GetRawText(); return true; }
                problem = $"expected a string, got {Describe(value)}";
                return false;
        }
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(value.GetString() ?? "")}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => value.GetRawText(),
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
