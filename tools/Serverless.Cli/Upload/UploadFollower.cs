using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.DurableTask.Client;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;
using Serverless.Orchestrations;

namespace Serverless.Cli.Upload;

/// <summary>
/// Follows one uploaded file to its end, through the pipeline's public record of it: the audit log says what ingestion
/// made of this blob (a dataset version, a duplicate of one, or a quarantined file), the quarantine listing says why a
/// file was refused, and the training run named after the dataset version (<see cref="DropZone.TrainingInstanceId"/>, the
/// attempt the upload started where earlier ones failed or were terminated)
/// gives the stage, the candidates, the gate's notes and how it ended.
/// </summary>
/// <remarks>
/// The upload is known by its blob's name and the ETag the upload got: a name used again (the same file uploaded twice)
/// has earlier records of its own, which are not this upload's.
/// </remarks>
/// <param name="specUploaded">Whether this upload dropped a spec before its data (<c>--spec</c>, <c>--label</c>, <c>--task</c>).</param>
public sealed class UploadFollower(PipelineClient client, IFollowView view, string model, string blobName, string eTag, TimeSpan timeout, bool specUploaded)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private readonly DateTime _deadline = DateTime.UtcNow + timeout;
    private bool _gateReported;
    private bool _candidatesReported;

    public async Task<int> FollowAsync(CancellationToken ct)
    {
        view.Stage("waiting for the host to ingest the file");
        var record = await UntilAsync(() => FindIngestionAsync(ct), "the host to ingest the file (is the local host running, with its blob trigger on this storage?)", ct);
        if (record is null) return ExitCodes.TimedOut;
        var action = Json.Text(record["action"]);
        // The run this upload started is created after ingestion recorded it; an attempt of the same data that failed before is not this upload's.
        var ingestedAt = record[JsonNamingPolicy.CamelCase.ConvertName(nameof(AuditRecord.At))]?.GetValue<DateTimeOffset>();
        var details = Json.Details(record["details"]) ?? [];
        if (action == AuditActions.Quarantine) return await ReportQuarantineAsync(Read<QuarantinedDetails>(details) ?? throw Unreadable(record), ct);
        if (action == AuditActions.Duplicate)
        {
            var same = (Read<DuplicateDetails>(details) ?? throw Unreadable(record)).DatasetVersion;
            view.Line($"duplicate: the data equals dataset version {same}, uploaded before; no new dataset version is made");
            return await FollowRunAsync(await RunOfDataAsync(same, ingestedAt, ct), earlierData: true, ct);
        }
        var ingested = Read<IngestedDetails>(details) ?? throw Unreadable(record);
        if (ingested.Replaced is { } replaced)
        {
            // Policy replace: the file brought back an earlier version as the latest data; that data's run ended long ago.
            view.Line($"restored: the data equals dataset version {ingested.DatasetVersion}, uploaded before, which is the latest data again (it was {replaced}); " +
                      $"no new dataset version is made (POST {PipelineClient.Route(ApiRoutes.Train, model)} trains on it again)");
        }
        else
        {
            view.Line($"ingested: dataset version {ingested.DatasetVersion}, {ingested.Rows} rows ({ingested.RejectedRows} rejected), " +
                      $"label {ingested.Label}, task {Json.Text(details["task"])}");
        }
        foreach (var line in Json.InferredLines(await DatasetVersionAsync(ingested.DatasetVersion, ct))) view.Line(line);
        if (ingested.RefusedSpec is { } refused)
        {
            var spec = await QuarantinedFileAsync(refused, ct);
            var kept = Json.Text(spec?["original"]) ?? $"{refused}original in the quarantine container";
            if (specUploaded)
            {
                // The spec uploaded with the data was refused: the data was read under the spec still in force, which is not
                // what was asked, so the command ends here, as for a quarantined file, and says why.
                view.Line($"spec refused: {Json.Text(spec?["reason"]) ?? "see mlops show " + model}");
                view.Line($"the data was read under the spec in force instead, and its run goes on under it (mlops show {model}); the refused spec is kept at {kept}");
                return ExitCodes.Quarantined;
            }
            // A spec dropped earlier, not by this upload, was refused: the data was read under the spec in force, as asked.
            view.Line($"note: the spec dropped before as {Serverless.Core.Specs.ModelSpecStore.BlobName(model)} in the drop zone was refused (kept at {kept}); this file was read under the spec in force (or, where none is, with everything inferred)");
        }
        return await FollowRunAsync(await RunOfDataAsync(ingested.DatasetVersion, ingestedAt, ct), earlierData: ingested.Replaced is not null, ct);
    }

    /// <summary>The quarantine listing's entry of the file quarantined at <paramref name="location"/>, or null when it is not listed.</summary>
    private async Task<JsonObject?> QuarantinedFileAsync(string location, CancellationToken ct)
    {
        var listing = await client.GetAsync(PipelineClient.Route(ApiRoutes.Quarantine, model), ct, notFoundIsNull: true);
        return (listing?["files"]?.AsArray() ?? []).OfType<JsonObject>().FirstOrDefault(f => Json.Text(f["location"]) == location);
    }

    /// <summary>
    /// The run this upload's data has (<see cref="DropZone.StartOnceAsync"/>'s rule): the first attempt that is not there
    /// yet, or did not fail and was not terminated, or was created after <paramref name="ingestedAt"/> (this upload's
    /// run, which may have failed before it is looked at). An earlier attempt that failed or was stopped is not this
    /// upload's, nor is one that was purged (410: its id is never given again).
    /// </summary>
    private async Task<string> RunOfDataAsync(string datasetVersion, DateTimeOffset? ingestedAt, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var instanceId = DropZone.TrainingInstanceId(model, datasetVersion, attempt);
            if (attempt == DropZone.MaxTrainingAttempts) return instanceId;
            var (answered, status) = await client.GetOrAbsentAsync(ApiRoutes.OrchestrationPath(instanceId), ct);
            if (answered == System.Net.HttpStatusCode.Gone) continue;
            if (status is null || !Enum.TryParse<OrchestrationRuntimeStatus>(Json.Text(status["runtimeStatus"]), out var runtime) || !DropZone.IsRetried(runtime))
            {
                return instanceId;
            }
            if (ingestedAt is { } since && status[JsonNamingPolicy.CamelCase.ConvertName(nameof(Serverless.Orchestrations.RunStatus.CreatedTime))]?.GetValue<DateTimeOffset>() >= since) return instanceId;
        }
    }

    /// <summary>The dataset version's entry in the model's datasets list (its inferred notes), or null when it is not listed.</summary>
    private async Task<JsonObject?> DatasetVersionAsync(string datasetVersion, CancellationToken ct)
    {
        var list = await client.GetAsync(PipelineClient.Route(ApiRoutes.Datasets, model), ct, notFoundIsNull: true);
        return (list?["versions"]?.AsArray() ?? []).OfType<JsonObject>().FirstOrDefault(v => Json.Text(v["version"]) == datasetVersion);
    }

    private CliException Unreadable(JsonObject record) => new($"the audit record of {blobName} is not one the command line can read: {record.ToJsonString()}");

    /// <summary>The audit record of what ingestion made of this upload (this blob, at the ETag the upload got).</summary>
    private async Task<JsonObject?> FindIngestionAsync(CancellationToken ct)
    {
        var audit = await client.GetAsync($"/{ApiRoutes.Prefix}/{ApiRoutes.Audit}?max=50&model={Uri.EscapeDataString(model)}", ct);
        foreach (var record in (audit?["records"]?.AsArray() ?? []).OfType<JsonObject>())
        {
            if (!AuditActions.UploadOutcomes.Contains(Json.Text(record["action"]))) continue;
            if (Read<UploadOutcomeRef>(Json.Details(record["details"])) is { } upload && upload.BlobName == blobName && upload.ETag == eTag) return record;
        }
        return null;
    }

    private async Task<int> ReportQuarantineAsync(QuarantinedDetails details, CancellationToken ct)
    {
        var location = details.Location;
        var file = await QuarantinedFileAsync(location, ct);
        view.Line($"quarantined: {Json.Text(file?["reason"]) ?? details.Reason}");
        foreach (var problem in (file?["problems"]?.AsArray() ?? []).OfType<JsonObject>())
        {
            var example = problem["details"]?.AsArray().FirstOrDefault();
            var line = problem["lines"]?.AsArray().FirstOrDefault();
            view.Line($"  {Json.Text(problem["code"])}: {Json.Text(problem["count"])} row(s)" + (example is null ? "" : $", e.g. line {Json.Text(line)}: {Json.Text(example)}"));
        }
        view.Line($"reason code: {details.Reason}; the file is kept unchanged at {Json.Text(file?["original"]) ?? $"{location}original in the quarantine container"}");
        view.Line("nothing was trained: fix the file and upload it again (see 'mlops show " + model + "').");
        return ExitCodes.Quarantined;
    }

    /// <summary>Follows the run of the upload's data to its end; <paramref name="earlierData"/> when the data was uploaded before (its run may have ended then).</summary>
    private async Task<int> FollowRunAsync(string instanceId, bool earlierData, CancellationToken ct)
    {
        view.Stage(earlierData ? "looking up the run of that data" : "waiting for the training run to start");
        string? lastStage = null;
        var candidatesReported = 0;
        var trainingTotal = 0;
        while (true)
        {
            var status = await UntilAsync(() => client.GetAsync(ApiRoutes.OrchestrationPath(instanceId), ct, notFoundIsNull: true), $"the training run {instanceId} to start", ct);
            if (status is null) return ExitCodes.TimedOut;
            var runtime = Json.Text(status["runtimeStatus"]);
            var progress = Read<TrainingProgress>(status["customStatus"]);
            if (lastStage is null) view.Line(earlierData && runtime == "Completed" ? $"that data was trained on before, by run {instanceId}:" : $"training run {instanceId}");

            if (progress is not null && runtime is "Running" or "Pending")
            {
                if (progress.Stage != lastStage && lastStage == TrainingStages.Training && trainingTotal > 0)
                {
                    // The run leaves the training stage only once every candidate has ended.
                    view.Line($"candidates: {trainingTotal} of {trainingTotal} trained");
                    _candidatesReported = true;
                }
                if (progress.Stage == TrainingStages.Training && progress.Total > 0)
                {
                    trainingTotal = progress.Total;
                    if (progress.Completed != candidatesReported || lastStage != TrainingStages.Training)
                    {
                        candidatesReported = progress.Completed;
                        view.Stage($"training: {progress.Completed} of {progress.Total} candidates done", progress.Share);
                    }
                }
                else
                {
                    view.Stage(progress.Version is null ? progress.Stage : $"{progress.Stage} {progress.Version}", progress.Share);
                }
                lastStage = progress.Stage;
                if (progress.Stage == TrainingStages.AwaitingApproval)
                {
                    ReportGatePassed();
                    // What the person is asked to decide on: the version's test metric, beside what production holds now.
                    var (metric, production) = await PrimaryMetricAsync(progress.Version, ct);
                    view.Line($"to decide on: {progress.Version}{metric}; production is {production ?? "not set"}" +
                              (production is null ? "" : $" ('mlops show {model}' lists both)"));
                    view.Line($"awaiting approval: {progress.Version} is registered and waits for a person; " +
                              $"'mlops approve {instanceId}' promotes it, 'mlops reject {instanceId}' refuses it.");
                    return ExitCodes.Ok;
                }
            }
            else
            {
                lastStage ??= runtime;
            }

            switch (runtime)
            {
                case "Completed":
                    return await FinishAsync(instanceId, Read<TrainingOutcome>(status["output"]), earlierRun: earlierData && lastStage == runtime, ct);
                case "Failed" or "Terminated":
                    view.Line($"run {runtime!.ToLowerInvariant()}: {Json.Text(status["failureDetails"]?["errorMessage"]) ?? Json.Text(status["output"]) ?? "no message"}");
                    view.Line($"nothing was promoted; see 'mlops show {model}' and GET {ApiRoutes.OrchestrationPath(instanceId)}");
                    return ExitCodes.RunFailed;
            }
            if (DateTime.UtcNow > _deadline) return TimedOut($"the training run {instanceId} to end");
            await Task.Delay(PollInterval, ct);
        }
    }

    /// <summary>How the run ended; <paramref name="earlierRun"/> when it had ended before this upload (a duplicate's).</summary>
    private async Task<int> FinishAsync(string instanceId, TrainingOutcome? outcome, bool earlierRun, CancellationToken ct)
    {
        if (outcome is null) throw new CliException($"the run {instanceId} completed without an outcome the command line can read.");
        var candidates = outcome.Candidates;
        if (candidates.Count > 0 && !_candidatesReported) view.Line($"candidates: {candidates.Count} of {candidates.Count} trained");
        if (candidates.Count > 0)
        {
            var failed = candidates.Count(c => !c.Succeeded);
            view.Line($"winner: {outcome.Winner ?? "none"}" + (failed > 0 ? $" ({failed} candidate(s) failed)" : ""));
        }
        var notes = outcome.Notes;
        switch (outcome.Status)
        {
            case TrainingStatus.Promoted:
                ReportGatePassed(notes);
                var (metric, production) = await PrimaryMetricAsync(outcome.Version, ct);
                if (earlierRun && production != outcome.Version)
                {
                    view.Line($"promoted: {outcome.Version} by that run; production is {production ?? "not set"} now");
                    view.Line($"done: {model} {outcome.Version}{metric}, no longer in production");
                }
                else
                {
                    view.Line($"promoted: {outcome.Version} is in production");
                    view.Line($"done: {model} {outcome.Version}{metric}");
                }
                return ExitCodes.Ok;
            case TrainingStatus.ChampionRetained:
                view.Line($"retained: production stays on {outcome.Champion ?? "the champion"}; " +
                          (outcome.Version is null ? "the winner was not registered" : $"{outcome.Version} is registered but not promoted"));
                foreach (var note in notes) view.Line("  " + note);
                view.Line($"nothing new in production: the new model did not beat the champion {outcome.Champion} (see the notes above).");
                return ExitCodes.Ok;
            case TrainingStatus.GateFailed:
                view.Line("gate: failed");
                foreach (var note in notes) view.Line("  " + note);
                view.Line($"nothing promoted: the winner {outcome.Winner} failed the quality gate.");
                return ExitCodes.NotPromoted;
            case TrainingStatus.Rejected:
                view.Line($"rejected: {outcome.Version} was refused at the approval gate; production is unchanged.");
                return ExitCodes.NotPromoted;
            case TrainingStatus.Expired:
                view.Line($"expired: nobody approved {outcome.Version} in time; production is unchanged.");
                return ExitCodes.NotPromoted;
            default:
                view.Line($"ended: {outcome.Status}");
                foreach (var note in notes) view.Line("  " + note);
                return ExitCodes.NotPromoted;
        }
    }

    private void ReportGatePassed(IReadOnlyList<string>? notes = null)
    {
        if (_gateReported) return;
        _gateReported = true;
        view.Line("gate: passed");
        foreach (var note in notes ?? []) view.Line("  " + note);
    }

    /// <summary>", rmse = 3.157 on the test split" for a registered version, and the production version now, from the model's view.</summary>
    private async Task<(string Metric, string? Production)> PrimaryMetricAsync(string? version, CancellationToken ct)
    {
        var view = await client.GetAsync(PipelineClient.Route(ApiRoutes.Model, model), ct, notFoundIsNull: true);
        var production = Json.Text(view?["aliases"]?[Core.Registry.ModelRegistry.Production]);
        var entry = (view?["versions"]?.AsArray() ?? []).OfType<JsonObject>().FirstOrDefault(v => Json.Text(v["version"]) == version);
        var metric = Json.Text(entry?["primaryMetric"]);
        if (metric is null) return ("", production);
        return ($", {metric} = {Json.TestValue(entry, metric)} on the test split", production);
    }

    /// <summary>Polls <paramref name="look"/> until it finds something; null (with a message) once the timeout has passed.</summary>
    private async Task<T?> UntilAsync<T>(Func<Task<T?>> look, string what, CancellationToken ct) where T : class
    {
        while (true)
        {
            if (await look() is { } found) return found;
            if (DateTime.UtcNow > _deadline)
            {
                TimedOut(what);
                return null;
            }
            await Task.Delay(PollInterval, ct);
        }
    }

    private int TimedOut(string what)
    {
        view.Line($"gave up after {timeout.TotalSeconds:N0} s waiting for {what}. Raise --timeout, or look at 'mlops show {model}' and the host's log.");
        return ExitCodes.TimedOut;
    }

    private static T? Read<T>(JsonNode? node) where T : class
    {
        if (node is null) return null;
        try
        {
            return node.Deserialize<T>(JsonBlobs.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
