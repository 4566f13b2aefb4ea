using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Options;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Storage;

namespace Serverless.Core.Monitoring;

/// <summary>
/// What a feedback request stored: how many labels, per version that answered, and the blob they are in (container/path,
/// as the quarantine names its files; null when nothing new was stored). <see cref="Relabelled"/> of the stored labels
/// replace an earlier, different label of their row (the latest counts); <see cref="AlreadyLabelled"/> items repeated a
/// row's label as it stands and were not stored again.
/// </summary>
/// <summary>
/// One feedback item as the request sends it, for the API's description (the service reads the body itself, naming every
/// bad field): the body is one item, or <c>{"items": [...]}</c> of them.
/// </summary>
public sealed record FeedbackItem(
    [property: JsonPropertyName(FeedbackService.RequestIdProperty)] string RequestId,
    [property: JsonPropertyName(FeedbackService.LabelProperty)] JsonElement Label,
    [property: JsonPropertyName(FeedbackService.RowProperty)] int? Row = null);

/// <summary>Feedback items sent together, for the API's description: <c>{"items": [...]}</c>, at most <see cref="PredictionLogOptions.MaxFeedbackItems"/>.</summary>
public sealed record FeedbackBatch([property: JsonPropertyName(FeedbackService.ItemsProperty)] IReadOnlyList<FeedbackItem> Items);

public sealed record FeedbackReceipt(string Model, int Accepted, IReadOnlyDictionary<string, int> Versions, string? Blob, int Relabelled = 0, int AlreadyLabelled = 0);

/// <summary>
/// Ground truth for earlier predictions: each item names a logged prediction by its request id (and, for a batch
/// request, the row) and gives its label. Every item is checked before any is stored: an id with no logged prediction
/// within <see cref="PredictionLogOptions.Lookback"/>, a row the request did not have, or a label of the wrong type for
/// the version that answered (a number for regression, one of the classes for a classifier) is a 400 naming the item.
/// The accepted labels are written as one JSON-lines blob under <c>monitoring/{model}/feedback/</c>.
/// </summary>
public sealed class FeedbackService(
    ModelRegistry registry,
    ModelPresence presence,
    PredictionLogReader log,
    PredictionLogWriter writer,
    FeedbackReader feedback,
    MonitoringSettingsCache settings,
    PipelineStorage storage,
    IOptions<PredictionLogOptions> options)
{
    public const string ItemsProperty = "items";
    public const string RequestIdProperty = "requestId";
    public const string RowProperty = "row";
    public const string LabelProperty = "label";

    private readonly PredictionLogOptions _options = options.Value;

    /// <summary>
    /// Stores the feedback of <paramref name="body"/>: one object <c>{"requestId", "row"?, "label"}</c> or
    /// <c>{"items": [...]}</c> of them.
    /// </summary>
    /// <exception cref="BadRequestException">The body's shape, an unknown request id or row, or a label of the wrong type (each item named).</exception>
    /// <exception cref="PayloadTooLargeException">More items than <see cref="PredictionLogOptions.MaxFeedbackItems"/>.</exception>
    /// <exception cref="NotFoundException">No such model.</exception>
    public async Task<FeedbackReceipt> AddAsync(string model, JsonElement body, CancellationToken ct)
    {
        var (items, prefix, shapeErrors) = Items(body);
        if (await registry.GetAsync(model, ct).ConfigureAwait(false) is null)
        {
            await presence.EnsureExistsAsync(model, ct).ConfigureAwait(false);
            throw new ConflictException($"Model '{model}' has no registered version yet, so no prediction of it to label: feedback labels logged predictions.");
        }
        var now = DateTimeOffset.UtcNow;
        var ids = items.Select(i => i.RequestId).ToHashSet(StringComparer.Ordinal);
        // Predictions of this host still in its buffer are written first (all of them: a request id found once in the log may
        // have a second prediction still buffered); another host's are written within its flush interval.
        await writer.FlushAsync(ct).ConfigureAwait(false);
        var found = await FindAsync(model, ids, now, ct).ConfigureAwait(false);

        var errors = shapeErrors;
        var manifests = new Dictionary<string, ModelManifest?>(StringComparer.Ordinal);
        var entries = new List<FeedbackEntry>();
        var rate = (await settings.GetAsync(model, ct).ConfigureAwait(false)).SampleRate;
        var labelledBy = new Dictionary<(string RequestId, int Row), int>();
        foreach (var item in items)
        {
            if (labelledBy.TryGetValue((item.RequestId, item.Row), out var earlier))
            {
                errors[prefix(item.Index, RequestIdProperty)] = [$"labels the same row as {ItemsProperty}[{earlier}]; give each row one label"];
                continue;
            }
            labelledBy[(item.RequestId, item.Row)] = item.Index;
            if (!found.TryGetValue(item.RequestId, out var logged))
            {
                errors[prefix(item.Index, RequestIdProperty)] =
                    [$"no logged prediction of '{model}' has request id '{Api.ApiResults.Truncate(item.RequestId, 60)}' in the last {Hosting.Durations.InWords(_options.Lookback)}: it is unknown, older, " +
                     $"or its request was not sampled (sample rate {rate:0.###})"];
                continue;
            }
            var entry = logged.Find(e => e.Row == item.Row);
            if (entry is null)
            {
                errors[prefix(item.Index, RowProperty)] = [$"request '{Api.ApiResults.Truncate(item.RequestId, 60)}' had {logged.Max(e => e.Row) + 1} row(s); rows are numbered from 0"];
                // The label is still checked, against the version that answered the request, so one answer names both.
                if (await ManifestAsync(logged[0].ModelVersion) is { } answered && !TryReadLabel(answered.Schema, item.Label, out _, out var labelProblem))
                {
                    errors[prefix(item.Index, LabelProperty)] = [labelProblem];
                }
                continue;
            }
            if (logged.Count(e => e.Row == item.Row) is > 1 and var answers)
            {
                // The caller sent the id with more than one request: which prediction the label is for cannot be told.
                errors[prefix(item.Index, RequestIdProperty)] =
                    [$"'{Api.ApiResults.Truncate(item.RequestId, 60)}' was the request id of {answers} logged predictions of row {item.Row} (the id was sent with more than one request), so which one this labels cannot be told; give each request its own x-request-id"];
                continue;
            }
            var manifest = await ManifestAsync(entry.ModelVersion);
            if (manifest is null)
            {
                errors[prefix(item.Index, RequestIdProperty)] = [$"the version that answered it, {entry.ModelVersion}, is no longer registered"];
                continue;
            }
            if (!TryReadLabel(manifest.Schema, item.Label, out var label, out var problem))
            {
                errors[prefix(item.Index, LabelProperty)] = [problem];
                continue;
            }
            entries.Add(new FeedbackEntry { RequestId = item.RequestId, Row = item.Row, Label = label, ModelVersion = entry.ModelVersion, PredictedAt = entry.Time, Time = now });
        }

        async Task<ModelManifest?> ManifestAsync(string version)
        {
            if (!manifests.TryGetValue(version, out var manifest)) manifests[version] = manifest = await registry.GetManifestAsync(model, version, ct).ConfigureAwait(false);
            return manifest;
        }
        if (errors.Count > 0)
        {
            throw new BadRequestException(
                $"None of the feedback was stored: {errors.Count} problem(s): {string.Join("; ", errors.Take(5).Select(e => $"{e.Key}: {e.Value[0]}"))}{(errors.Count > 5 ? "; ..." : "")}.",
                errors);
        }

        // A row labelled before keeps its latest label: the same label again is not stored twice (a retried request
        // changes nothing), a different one is stored and replaces it.
        var inForce = await feedback.LatestAsync(model, now - _options.Lookback, now.AddMinutes(1), ids.Contains, ct).ConfigureAwait(false);
        var repeated = entries.RemoveAll(e => inForce.TryGetValue((e.RequestId, e.Row), out var held) && JsonElement.DeepEquals(held.Label, e.Label));
        var relabelled = entries.Count(e => inForce.ContainsKey((e.RequestId, e.Row)));
        var versions = entries.GroupBy(e => e.ModelVersion).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        if (entries.Count == 0) return new FeedbackReceipt(model, 0, versions, null, 0, repeated);

        var blob = MonitoringPaths.FeedbackBlob(model, now, writer.WriterId, Guid.NewGuid().ToString("N")[..12]);
        await storage.Monitoring.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
        await storage.Monitoring.GetBlobClient(blob).UploadAsync(JsonLinesFile.Write(entries),
            new Azure.Storage.Blobs.Models.BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/x-ndjson" } }, ct).ConfigureAwait(false);
        return new FeedbackReceipt(model, entries.Count, versions, $"{storage.Monitoring.Name}/{blob}", relabelled, repeated);
    }

    /// <summary>
    /// A label as the version's task takes it, read as the label column of an uploaded file is (<see cref="CellValues"/>):
    /// a finite number for regression (a JSON number, or a string holding one such as <c>"13"</c>); one of the classes
    /// for a classifier (a string, or a number or boolean written as one, e.g. <c>1</c> for class "1"; a boolean, or 1
    /// or 0, also matches a class that reads as the same boolean, e.g. <c>true</c> or <c>1</c> for "yes").
    /// </summary>
    internal static bool TryReadLabel(DatasetSchema schema, JsonElement value, out JsonElement label, out string problem)
    {
        label = default;
        problem = "";
        var text = CellValues.TextOf(value);
        if (schema.Task == TaskKind.Regression)
        {
            // A string is read with the decimal mark the model's data was read with ("78,5"), as predict reads one.
            var number = double.NaN;
            if ((value.ValueKind == JsonValueKind.Number ? CellValues.TryNumber(text!, out number) : value.ValueKind == JsonValueKind.String && CellValues.TryNumber(text.AsSpan(), schema.DecimalSeparator, out number))
                && double.IsFinite(number))
            {
                // The rule predict's rows and an uploaded label column keep: a label no 32-bit metric can hold blinds the live metrics.
                if (CellValues.IsModelFinite(number))
                {
                    label = JsonSerializer.SerializeToElement(number);
                    return true;
                }
                problem = $"expected a number of {CellValues.ModelFiniteLimit} (the model predicts '{schema.Label}', a regression), got {Describe(value)}";
                return false;
            }
            // As predict says it: a string is read with the data's decimal mark.
            var written = schema.DecimalSeparator == DecimalMark.Point ? "" : $"; {DecimalMark.JsonNumbers(schema.DecimalSeparator)}";
            problem = $"expected a number (the model predicts '{schema.Label}', a regression{written}), got {Describe(value)}";
            return false;
        }
        var classes = schema.Classes ?? [];
        // A numeric class is named by its number's shortest text, as ingestion named it: 1.0 is the class "1", and so is
        // the string "1,0" for data read with a decimal comma (a JSON number is written with a point whatever the data's mark).
        var mark = value.ValueKind == JsonValueKind.String ? schema.DecimalSeparator : DecimalMark.Point;
        var match = text is null ? null : classes.FirstOrDefault(c => c == text) ?? classes.FirstOrDefault(c => c == CellValues.ClassLabel(text, mark));
        if (match is null && text is not null && CellValues.ReadBoolean(text, out var flag) == CellReading.Value)
        {
            // Read as the label column's booleans are (true/false, yes/no, t/f, 1/0): true is the class "1" as well as "yes".
            match = classes.FirstOrDefault(c => CellValues.ReadBoolean(c.AsSpan(), out var other) == CellReading.Value && other == flag);
        }
        if (match is not null)
        {
            label = JsonSerializer.SerializeToElement(match);
            return true;
        }
        var differsInCase = text is null ? null : classes.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase));
        problem = $"expected one of the classes of '{schema.Label}' ({string.Join(", ", classes)}), got {Describe(value)}" +
                  (differsInCase is null ? "" : $"; did you mean '{differsInCase}'? (classes match case)");
        return false;
    }

    private async Task<Dictionary<string, List<PredictionLogEntry>>> FindAsync(string model, HashSet<string> ids, DateTimeOffset now, CancellationToken ct)
    {
        var found = new Dictionary<string, List<PredictionLogEntry>>(StringComparer.Ordinal);
        // Only the lines of the named requests are parsed whole; the rest are passed over by their request id.
        await foreach (var entry in log.ReadAsync(model, now - _options.Lookback, now.AddMinutes(1), keep: (id, _) => ids.Contains(id), ct: ct).ConfigureAwait(false))
        {
            if (!found.TryGetValue(entry.RequestId, out var rows)) found[entry.RequestId] = rows = [];
            rows.Add(entry);
        }
        return found;
    }

    private sealed record Item(int Index, string RequestId, int Row, JsonElement Label);

    /// <summary>
    /// The well-formed items of the body, how a field of item i is named in errors, and the body's shape errors (the
    /// items are checked further, so one answer names every problem); a 400 at once when no item is well-formed.
    /// </summary>
    private (List<Item> Items, Func<int, string, string> Prefix, Dictionary<string, string[]> Errors) Items(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new BadRequestException($"The body must be a JSON object ({{\"requestId\", \"row\", \"label\"}}) or {{\"items\": [...]}} of them.",
                new Dictionary<string, string[]> { ["body"] = ["must be an object"] });
        }
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var items = new List<Item>();
        if (!body.TryGetProperty(ItemsProperty, out var array))
        {
            static string Single(int _, string field) => field;
            if (ReadItem(body, 0, Single, errors) is { } item) items.Add(item);
            return items.Count == 0 ? throw Bad(errors) : (items, Single, errors);
        }
        static string Indexed(int i, string field) => $"{ItemsProperty}[{i}].{field}";
        var given = 0;
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name != ItemsProperty) errors[Api.ApiResults.Truncate(property.Name, 60)] = [$"unknown field beside '{ItemsProperty}' (put fields inside each item)"];
            // The parser keeps the last of the two: which was meant cannot be told, as for a field given twice in an item.
            else if (++given == 2) throw Bad(new Dictionary<string, string[]>(errors) { [ItemsProperty] = ["given twice; give it once, with every item in it"] });
        }
        if (array.ValueKind != JsonValueKind.Array) errors[ItemsProperty] = ["must be an array of feedback items"];
        else if (array.GetArrayLength() == 0) errors[ItemsProperty] = ["empty; send at least one item"];
        else if (array.GetArrayLength() > _options.MaxFeedbackItems)
        {
            throw new PayloadTooLargeException($"The request holds {array.GetArrayLength()} feedback items; the limit is {_options.MaxFeedbackItems}. Split it into smaller requests.");
        }
        else
        {
            var i = 0;
            foreach (var element in array.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object) errors[$"{ItemsProperty}[{i}]"] = ["must be an object {\"requestId\", \"row\", \"label\"}"];
                else if (ReadItem(element, i, Indexed, errors) is { } item) items.Add(item);
                i++;
            }
        }
        return items.Count == 0 ? throw Bad(errors) : (items, Indexed, errors);
    }

    private static Item? ReadItem(JsonElement element, int index, Func<int, string, string> name, Dictionary<string, string[]> errors)
    {
        string? requestId = null;
        var row = 0;
        JsonElement? label = null;
        var ok = true;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name is RequestIdProperty or RowProperty or LabelProperty && !seen.Add(property.Name))
            {
                // Which of the two was meant cannot be told: the item is refused, as predict refuses a row's field given twice.
                errors[name(index, property.Name)] = ["given twice; give it once"];
                ok = false;
                continue;
            }
            switch (property.Name)
            {
                case RequestIdProperty:
                    if (property.Value.ValueKind == JsonValueKind.String && RequestId.IsSafe(property.Value.GetString())) requestId = property.Value.GetString();
                    else
                    {
                        errors[name(index, RequestIdProperty)] = ["must be the request id of a prediction (its requestId, or x-request-id header)"];
                        ok = false;
                    }
                    break;
                case RowProperty:
                    if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out row) || row < 0)
                    {
                        errors[name(index, RowProperty)] = ["must be a whole number from 0: the row's index in its request"];
                        ok = false;
                    }
                    break;
                case LabelProperty:
                    if (property.Value.ValueKind is JsonValueKind.Null or JsonValueKind.Object or JsonValueKind.Array)
                    {
                        errors[name(index, LabelProperty)] = [$"must be a number or a class name, not {property.Value.ValueKind.ToString().ToLowerInvariant()}"];
                        ok = false;
                    }
                    else label = property.Value;
                    break;
                default:
                    // Recorded, and the item is still checked: the answer names its other problems too.
                    errors[name(index, Api.ApiResults.Truncate(property.Name, 60))] = [$"unknown field; an item has {RequestIdProperty}, {RowProperty} (optional, default 0) and {LabelProperty}"];
                    break;
            }
        }
        if (requestId is null && !errors.ContainsKey(name(index, RequestIdProperty)))
        {
            errors[name(index, RequestIdProperty)] = ["required: the request id of the prediction"];
            ok = false;
        }
        if (label is null && !errors.ContainsKey(name(index, LabelProperty)))
        {
            errors[name(index, LabelProperty)] = ["required: the true value"];
            ok = false;
        }
        return ok ? new Item(index, requestId!, row, label!.Value) : null;
    }

    private static BadRequestException Bad(Dictionary<string, string[]> errors) =>
        new($"The feedback does not have the expected shape: {string.Join("; ", errors.Take(5).Select(e => $"{e.Key}: {e.Value[0]}"))}{(errors.Count > 5 ? "; ..." : "")}.", errors);

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Api.ApiResults.Truncate(value.GetString() ?? "", 60)}\"",
        _ => Api.ApiResults.Truncate(value.GetRawText(), 60),
    };

}
