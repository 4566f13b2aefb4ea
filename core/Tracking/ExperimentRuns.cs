using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Core.Storage;
using Serverless.Core.Training;

namespace Serverless.Core.Tracking;

/// <summary>
/// One recorded candidate run: what was trained, on what, how it scored (<see cref="Metrics"/>, measured as
/// <see cref="Selection"/> says: the validation split, or k-fold cross-validation), how long it took, how it ended, and
/// which host process ran it. <see cref="Version"/> is the model version it was registered as, when it was: the
/// registry's fact, added when runs are listed, not kept with the run.
/// </summary>
public sealed record ExperimentRun(
    string Model,
    string RunId,
    string OrchestrationId,
    string DatasetVersion,
    string Trainer,
    IReadOnlyDictionary<string, double> Parameters,
    IReadOnlyDictionary<string, double> Metrics,
    string Status,
    double DurationMs,
    DateTimeOffset StartedAt,
    string? Error,
    string? Host = null,
    SelectionMeasure? Selection = null,
    string? Version = null);

/// <summary>Values of <see cref="ExperimentRun.Status"/>.</summary>
public static class RunStatus
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    /// <summary>Not trained, or not kept, because a person terminated its training run.</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>Experiment tracking: every candidate run, failed ones too (table <c>{prefix}runs</c>, partitioned by model).</summary>
public sealed class ExperimentRuns(PipelineStorage storage)
{
    private readonly CreatedOnce _created = new(() => storage.Table("runs").CreateIfNotExistsAsync());

    public async Task RecordAsync(ExperimentRun run, CancellationToken ct)
    {
        await _created.EnsureAsync().ConfigureAwait(false);
        var entity = new TableEntity(run.Model, run.RunId)
        {
            ["OrchestrationId"] = run.OrchestrationId,
            ["DatasetVersion"] = run.DatasetVersion,
            ["Trainer"] = run.Trainer,
            ["Parameters"] = JsonSerializer.Serialize(run.Parameters, JsonBlobs.Options),
            ["Metrics"] = JsonSerializer.Serialize(run.Metrics, JsonBlobs.Options),
            ["Status"] = run.Status,
            ["DurationMs"] = run.DurationMs,
            ["StartedAt"] = run.StartedAt,
            ["Error"] = run.Error,
            ["Host"] = run.Host ?? Serverless.Core.Hosting.HostIdentity.Name,
            ["Selection"] = run.Selection is null ? null : JsonSerializer.Serialize(run.Selection, JsonBlobs.Options),
        };
        await storage.Table("runs").UpsertEntityAsync(entity, TableUpdateMode.Replace, ct).ConfigureAwait(false);
    }

    /// <summary>A model's runs, sorted by a metric (best first, by the metric's direction) or by start time, newest first.</summary>
    public async Task<IReadOnlyList<ExperimentRun>> ListAsync(string model, string? sortByMetric, CancellationToken ct)
    {
        await _created.EnsureAsync().ConfigureAwait(false);
        var runs = new List<ExperimentRun>();
        await foreach (var e in storage.Table("runs").QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {model}"), cancellationToken: ct).ConfigureAwait(false))
        {
            runs.Add(ToRun(e));
        }
        if (sortByMetric is null) return [.. runs.OrderByDescending(r => r.StartedAt)];
        var higher = Metrics.HigherIsBetter(sortByMetric);
        var withMetric = runs.Where(r => r.Metrics.ContainsKey(sortByMetric));
        var ordered = higher ? withMetric.OrderByDescending(r => r.Metrics[sortByMetric]) : withMetric.OrderBy(r => r.Metrics[sortByMetric]);
        return [.. ordered, .. runs.Where(r => !r.Metrics.ContainsKey(sortByMetric)).OrderByDescending(r => r.StartedAt)];
    }

    /// <summary>One run of a model, or null when the model has no run of that id.</summary>
    public async Task<ExperimentRun?> GetAsync(string model, string runId, CancellationToken ct)
    {
        await _created.EnsureAsync().ConfigureAwait(false);
        var found = await storage.Table("runs").GetEntityIfExistsAsync<TableEntity>(model, runId, cancellationToken: ct).ConfigureAwait(false);
        return found.HasValue ? ToRun(found.Value!) : null;
    }

    private static ExperimentRun ToRun(TableEntity e) => new(
        e.PartitionKey,
        e.RowKey,
        e.GetString("OrchestrationId"),
        e.GetString("DatasetVersion"),
        e.GetString("Trainer"),
        JsonSerializer.Deserialize<Dictionary<string, double>>(e.GetString("Parameters") ?? "{}", JsonBlobs.Options) ?? [],
        JsonSerializer.Deserialize<Dictionary<string, double>>(e.GetString("Metrics") ?? "{}", JsonBlobs.Options) ?? [],
        e.GetString("Status"),
        e.GetDouble("DurationMs") ?? 0,
        e.GetDateTimeOffset("StartedAt") ?? default,
        e.GetString("Error"),
        e.GetString("Host"),
        e.GetString("Selection") is { } selection ? JsonSerializer.Deserialize<SelectionMeasure>(selection, JsonBlobs.Options) : null);
}
