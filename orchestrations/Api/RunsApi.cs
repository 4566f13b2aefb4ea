using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Orchestrations;

using static ApiResults;

/// <summary>
/// The HTTP handlers of training runs, written once over Durable Task's <see cref="DurableTaskClient"/> and the workflow's
/// own types (<see cref="TrainingRequest"/>, <see cref="TrainingOrchestrator"/>, <see cref="TrainingProgress"/>): start,
/// list, inspect, approve or reject, terminate, raise events and purge. Both hosts map their routes to these.
/// </summary>
public sealed partial class RunsApi(DatasetStore datasets, ModelSpecStore specs, ModelPresence presence, ModelRegistry registry, AuditLog audit, PurgedRuns purged, PipelineStorage storage, ILogger<RunsApi> logger)
{
    /// <summary>
    /// Where a run's approval decision is claimed (<c>models/{model}/approvals/{instance id}.json</c>, written only if
    /// absent): the run reads one decision, so a second one, even sent before the run moved off waiting, is refused
    /// rather than answered 202 and audited without effect.
    /// </summary>
    public static string DecisionBlob(string model, string instanceId) => $"{model}/approvals/{instanceId}.json";

    /// <summary>The claimed decision, and when.</summary>
    public sealed record ClaimedDecision(ApprovalDecision Decision, DateTimeOffset At);


    /// <summary>Event names a run can be sent (raiseEvent): a word an orchestration's code can wait for.</summary>
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex EventNamePattern();

    public const string EventNameRule = "1 to 100 letters, digits, '-', '_' or '.', starting with a letter";

    /// <summary>The id of a run started over HTTP: <c>train-{model}-{32 hex digits}</c>. Runs of uploads are named by <see cref="DropZone.TrainingInstanceId"/>.</summary>
    public static string HttpInstanceId(string model, Guid id) => $"train-{model}-{id:N}";

    /// <summary>Most runs one list request returns.</summary>
    public const int MaxPageSize = 100;
    private const string ModelParameter = "model";
    private const string StatusParameter = "status";
    private const string TopParameter = "top";
    private const string SkipParameter = "skip";
    private const string ReasonParameter = "reason";

    /// <summary>Most runs of one model the list looks at (sorted newest first in memory: the task hub orders by id).</summary>
    public const int MaxRunsScanned = 5000;

    public Task<IResult> TrainAsync(string model, HttpRequest request, DurableTaskClient workflows, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<TrainBody>(request, strict: true, ct) : null;
        if (body?.DatasetVersion is { } named) CheckDatasetVersionName(named);
        var dataset = body?.DatasetVersion is { } version
            ? await datasets.GetManifestAsync(model, version, ct) ?? throw new NotFoundException($"Model '{model}' has no dataset version '{version}'.")
            : await datasets.GetLatestAsync(model, ct) ?? throw await presence.WithoutDataAsync(model, ct);
        // A run the spec in force cannot train would start, then fail at its dataset check: said now instead.
        if (SpecFit.Refusal(model, await specs.GetCurrentAsync(model, ct), dataset) is { } refusal) throw new ConflictException(refusal);
        var instanceId = HttpInstanceId(model, Guid.NewGuid());
        var actor = Actor(request);
        await workflows.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator),
            new TrainingRequest(model, dataset.Version, "http", actor, Reason: body?.Reason), new StartOrchestrationOptions(instanceId), ct);
        await audit.RecordAsync(AuditActions.TrainRequested, model, actor, body?.Reason, new { instanceId, DatasetVersion = dataset.Version }, ct);
        return CheckStatus(request, instanceId);
    });

    public Task<IResult> GetAsync(string instanceId, DurableTaskClient workflows, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        return Json(Describe(await FindAsync(instanceId, workflows, ct)));
    });

    /// <summary><c>GET /api/orchestrations?model=&amp;status=&amp;top=&amp;skip=</c>: training runs, newest first, paged.</summary>
    public Task<IResult> ListAsync(HttpRequest request, DurableTaskClient workflows, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request, [ModelParameter, StatusParameter, TopParameter, SkipParameter], repeatable: [StatusParameter]);
        var model = request.Query[ModelParameter].FirstOrDefault();
        if (model is not null) CheckModelName(model);
        var statuses = new List<OrchestrationRuntimeStatus>();
        foreach (var text in request.Query[StatusParameter].SelectMany(s => (s ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Enum.TryParse<OrchestrationRuntimeStatus>(text, ignoreCase: true, out var status) || !Enum.IsDefined(status) || int.TryParse(text, out _))
            {
                throw new BadRequestException($"'{text}' is not a run status.", Field("status", $"one or more of {string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>())}"));
            }
            statuses.Add(status);
        }
        var top = QueryInt(request, TopParameter, 20, 1, MaxPageSize);
        var skip = QueryInt(request, SkipParameter, 0, 0, MaxRunsScanned);

        var query = new OrchestrationQuery
        {
            InstanceIdPrefix = model is null ? "train-" : $"train-{model}-",
            Statuses = statuses.Count == 0 ? null : statuses,
            FetchInputsAndOutputs = true,
            PageSize = 500,
        };
        var runs = new List<OrchestrationMetadata>();
        await foreach (var instance in workflows.GetAllInstancesAsync(query).WithCancellation(ct))
        {
            if (instance.Name != nameof(TrainingOrchestrator)) continue;
            // "train-taxi-" is also the prefix of model "taxi-2"'s runs: the input says whose run it is.
            if (model is not null && instance.ReadInputAs<TrainingRequest>()?.Model != model) continue;
            runs.Add(instance);
            if (runs.Count >= MaxRunsScanned) break;
        }
        var page = runs.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.InstanceId, StringComparer.Ordinal).Skip(skip).Take(top).Select(Describe).ToList();
        return Json(new RunPage(model, runs.Count, skip, top, page));
    });

    public Task<IResult> ApproveAsync(string instanceId, HttpRequest request, DurableTaskClient workflows, CancellationToken ct) =>
        DecideAsync(instanceId, request, workflows, approved: true, ct);

    public Task<IResult> RejectAsync(string instanceId, HttpRequest request, DurableTaskClient workflows, CancellationToken ct) =>
        DecideAsync(instanceId, request, workflows, approved: false, ct);

    /// <remarks>
    /// A run stopped at the approval gate leaves no version waiting for a decision no one can send: terminating it claims
    /// the gate's decision as a rejection (the terminator's, with the reason) and rejects the version, which leaves
    /// <c>staging</c> as a rejection by the gate does. A decision sent before the terminate stands (an approved version
    /// stays registered, not promoted).
    /// </remarks>
    public Task<IResult> TerminateAsync(string instanceId, HttpRequest request, DurableTaskClient workflows, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request, ReasonParameter);
        // The reason as the body's "reason", as on every other admin route, or as ?reason= (the check-status answer's URI).
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        var queried = Reasons.Check(request.Query[ReasonParameter].FirstOrDefault(), ReasonParameter);
        if (body?.Reason is not null && queried is not null)
        {
            throw new BadRequestException("Give the reason once: in the body or as ?reason=, not both.", Field(ReasonParameter, "in the body or the query, not both"));
        }
        var instance = await FindAsync(instanceId, workflows, ct);
        if (instance.IsCompleted) throw new ConflictException($"Orchestration '{instanceId}' has already ended ({instance.RuntimeStatus}).");
        var reason = body?.Reason ?? queried ?? "terminated over HTTP";
        var actor = Actor(request);
        var model = ModelOf(instance);
        var waiting = Progress(instance) is { Stage: TrainingStages.AwaitingApproval, Version: { } pending } ? pending : null;
        // Claimed before the run stops, so that an approval racing the terminate is refused rather than lost.
        var rejection = new ApprovalDecision(false, actor, $"run terminated: {reason}");
        var decision = waiting is null ? null : await ClaimDecisionAsync(model, instanceId, rejection, ct) ?? new ClaimedDecision(rejection, DateTimeOffset.UtcNow);
        // The registry learns first, then the engine: a registration or promotion of the run already on its way when the
        // engine stops it then finds the run stopped, and moves nothing. A decision sent before the terminate is applied
        // first, so the registry's stop leaves it standing.
        var decided = waiting is not null && decision is not null
            && await registry.DecidePendingAsync(model, waiting, decision.Decision.Approved ? VersionStatus.Approved : VersionStatus.Rejected, decision.Decision.By, decision.Decision.Reason, ct);
        var training = instance.Name == nameof(TrainingOrchestrator);
        var stopped = training ? await registry.TerminateRunAsync(model, instanceId, actor, reason, ct) : null;
        await workflows.TerminateInstanceAsync(instanceId, new TerminateInstanceOptions { Output = reason }, ct);

        await audit.RecordAsync(AuditActions.Terminate, model, actor, reason, new { instanceId, reason }, ct);
        if (decided)
        {
            await audit.RecordAsync(decision!.Decision.Approved ? AuditActions.Approved : AuditActions.Rejected, model, decision.Decision.By, decision.Decision.Reason,
                new { Version = waiting, instanceId }, ct);
        }
        foreach (var version in stopped?.Rejected ?? [])
        {
            await audit.RecordAsync(AuditActions.Rejected, model, actor, $"run terminated: {reason}", new { Version = version, instanceId }, ct);
        }
        if (training && await RunEnd.ClaimAsync(storage, model, instanceId, actor, ct))
        {
            // The engine runs none of the run's code after this, so the run's end is recorded here, as the run records its
            // own; unless the run recorded its end just before the stop reached it (it claimed the end first).
            await audit.RecordAsync(AuditActions.TrainingEnded, model, actor, reason,
                new TrainingEventDetails(instanceId, TrainingStages.Terminated, stopped?.Version ?? Progress(instance)?.Version, ReadInput(instance)?.DatasetVersion), ct);
        }
        var named = waiting ?? stopped?.Version;
        var versionStatus = named is null ? null
            : named == stopped?.Version ? stopped.Status
            : (await registry.GetAsync(model, ct))?.Versions.Find(v => v.Version == named)?.Status;
        return new WithHeader(Json(new TerminateAnswer(instanceId, reason, named, versionStatus, named == stopped?.Version ? NoteOf(stopped) : null), StatusCodes.Status202Accepted),
            Microsoft.Net.Http.Headers.HeaderNames.Location, StatusUri(request, instanceId));
    });

    /// <summary>What a person can do about the version a terminated run leaves where the terminate did not reject it.</summary>
    private static string? NoteOf(TerminatedRun? stopped) => stopped switch
    {
        { Version: { } version, InProduction: true } => $"{version} reached production before the run was stopped; roll back to undo that.",
        { Version: { } version, Status: VersionStatus.Approved } =>
            $"{version} was approved before the run was stopped: it stays approved and is not promoted by the run; promote it by hand if you want it.",
        _ => null,
    };

    public Task<IResult> RaiseEventAsync(string instanceId, string eventName, HttpRequest request, DurableTaskClient workflows, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        if (!EventNamePattern().IsMatch(eventName))
        {
            throw new BadRequestException($"'{eventName}' is not an event name.", Field("eventName", EventNameRule));
        }
        if (string.Equals(eventName, TrainingOrchestrator.ApprovalEvent, StringComparison.OrdinalIgnoreCase))
        {
            throw new BadRequestException("Send approval decisions to the approve or reject route, which check and audit them.", Field("eventName", $"not '{TrainingOrchestrator.ApprovalEvent}'"));
        }
        var instance = await FindAsync(instanceId, workflows, ct);
        if (instance.IsCompleted) throw new ConflictException($"Orchestration '{instanceId}' has already ended ({instance.RuntimeStatus}).");
        object? data = null;
        if (request.ContentLength is > 0)
        {
            using var document = await ReadDocumentAsync(request, ct);
            data = document.RootElement.Clone();
        }
        await workflows.RaiseEventAsync(instanceId, eventName, data, ct);
        return Results.Accepted();
    });

    public Task<IResult> PurgeAsync(string instanceId, HttpRequest request, DurableTaskClient workflows, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        var instance = await FindAsync(instanceId, workflows, ct);
        if (!instance.IsCompleted) throw new ConflictException($"Orchestration '{instanceId}' is still {instance.RuntimeStatus}; terminate it before purging.");
        var model = ModelOf(instance);
        var actor = Actor(request);
        // Marked before the engine forgets the run: its id stays taken even if this request ends half way.
        await purged.RecordAsync(new PurgedRun(instanceId, model, DateTimeOffset.UtcNow, actor, body?.Reason), ct);
        var result = await workflows.PurgeInstanceAsync(instanceId, cancellation: ct);
        if (instance.Name == nameof(TrainingOrchestrator))
        {
            // What only the engine's run needed goes with its history: its stop, its approval decision and the claim of its
            // end. Its id is not given to another run (PurgedRuns), so its experiment runs and lineage stay its own.
            await registry.ForgetTerminatedRunAsync(model, instanceId, ct);
            await storage.Models.GetBlobClient(DecisionBlob(model, instanceId)).DeleteIfExistsAsync(cancellationToken: ct);
            await storage.Models.GetBlobClient(RunEnd.Blob(model, instanceId)).DeleteIfExistsAsync(cancellationToken: ct);
        }
        await audit.RecordAsync(AuditActions.Purge, model, actor, body?.Reason, new { instanceId }, ct);
        return Json(new PurgeAnswer(result.PurgedInstanceCount));
    });

    private Task<IResult> DecideAsync(string instanceId, HttpRequest request, DurableTaskClient workflows, bool approved, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        var instance = await FindAsync(instanceId, workflows, ct);
        var stage = Progress(instance)?.Stage;
        if (instance.IsCompleted || stage != TrainingStages.AwaitingApproval)
        {
            // A run that moved on because of a decision says whose, as a second decision while it waits does (a terminated one says it was terminated).
            if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Terminated && await JsonBlobs.TryReadAsync<ClaimedDecision>(storage.Models.GetBlobClient(DecisionBlob(ModelOf(instance), instanceId)), ct) is { Value: var decided })
            {
                throw AlreadyDecided(instanceId, decided);
            }
            var where = instance.RuntimeStatus == OrchestrationRuntimeStatus.Terminated ? $"it was terminated during {stage ?? "an unknown stage"}"
                : instance.IsCompleted ? $"it has ended ({instance.RuntimeStatus}, stage {stage ?? "none"})"
                : $"it is at stage {stage ?? "none"} ({instance.RuntimeStatus})";
            throw new ConflictException($"Orchestration '{instanceId}' is not waiting for approval: {where}.");
        }
        var actor = Actor(request);
        // One read of the registry serves the checks of a decision: the version's status, and where production is.
        var pending = Progress(instance)?.Version;
        var doc = pending is not null ? await registry.GetAsync(ModelOf(instance), ct) : null;
        // A version archived while it waited is never promoted by an approval: the run would fail at its promotion.
        if (approved && doc?.Versions.Find(v => v.Version == pending) is { Status: VersionStatus.Archived })
        {
            throw new ConflictException($"Version {pending}, which run '{instanceId}' waits with, was archived: it cannot be approved. Reject the run, "
                + $"or promote {pending} with force if it is wanted after all.");
        }
        var decision = new ApprovalDecision(approved, actor, body?.Reason);
        if (await ClaimDecisionAsync(ModelOf(instance), instanceId, decision, ct) is { } first) throw AlreadyDecided(instanceId, first);
        await workflows.RaiseEventAsync(instanceId, TrainingOrchestrator.ApprovalEvent, decision, ct);
        await audit.RecordAsync(approved ? AuditActions.Approve : AuditActions.Reject, ModelOf(instance), actor, body?.Reason, new { instanceId }, ct);
        var note = approved ? NewerProduction(doc, pending) : RejectedInProduction(doc, pending);
        return new WithHeader(Json(new DecisionAnswer(instanceId, approved ? "approved" : "rejected", note), StatusCodes.Status202Accepted), Microsoft.Net.Http.Headers.HeaderNames.Location, StatusUri(request, instanceId));
    });

    /// <summary>
    /// What a person approving <paramref name="waiting"/> should know when production is a version registered after it
    /// (trained later, often on newer data): the run compares its version with that one again before anything moves.
    /// </summary>
    private static string? NewerProduction(RegistryDocument? doc, string? waiting)
    {
        if (waiting is null || doc is null || !doc.Aliases.TryGetValue(ModelRegistry.Production, out var production)) return null;
        // The registry lists versions in the order they were registered.
        var (mine, current) = (doc.Versions.FindIndex(v => v.Version == waiting), doc.Versions.FindIndex(v => v.Version == production));
        if (mine < 0 || current <= mine) return null;
        return $"Production is {production}, registered after {waiting}: before {waiting} takes production, the run compares it with {production} "
            + $"on rows neither was trained on, and it moves only if it does at least as well; otherwise {production} stays and the run ends {TrainingStatus.ChampionRetained}.";
    }

    /// <summary>
    /// What a person rejecting <paramref name="waiting"/> should know when it is production already (promoted with force
    /// while it waited): the rejection marks it, and production stays on it until someone moves it.
    /// </summary>
    private static string? RejectedInProduction(RegistryDocument? doc, string? waiting)
    {
        if (waiting is null || doc is null || !doc.Aliases.TryGetValue(ModelRegistry.Production, out var production) || production != waiting) return null;
        return $"{waiting} is production already (it was promoted while it waited): rejecting it marks it {VersionStatus.Rejected}, and production stays on it. "
            + $"Roll back (mlops rollback {doc.Model}) or promote another version to take it out of service.";
    }

    /// <summary>
    /// Claims a run's one approval decision (<see cref="DecisionBlob"/>, written only if absent): null when this one is
    /// now the run's decision, else the decision claimed first.
    /// </summary>
    private static ConflictException AlreadyDecided(string instanceId, ClaimedDecision first) =>
        new($"Orchestration '{instanceId}' already has its decision: {(first.Decision.Approved ? "approved" : "rejected")} by {first.Decision.By} at {first.At:u}.");

    private async Task<ClaimedDecision?> ClaimDecisionAsync(string model, string instanceId, ApprovalDecision decision, CancellationToken ct)
    {
        var claim = storage.Models.GetBlobClient(DecisionBlob(model, instanceId));
        try
        {
            await storage.EnsureCreatedAsync();
            await JsonBlobs.WriteAsync(claim, new ClaimedDecision(decision, DateTimeOffset.UtcNow), ct, createOnly: true);
            return null;
        }
        catch (Azure.RequestFailedException e) when (JsonBlobs.IsConcurrencyConflict(e))
        {
            return (await JsonBlobs.TryReadAsync<ClaimedDecision>(claim, ct))?.Value
                ?? throw new ConflictException($"Orchestration '{instanceId}' already has its decision: another request decided first.");
        }
    }

    /// <summary>A run's status URL, absolute at the origin callers reached the app at (<see cref="PublicOrigin"/>): the Location of a 202.</summary>
    private static string StatusUri(HttpRequest request, string instanceId) => PublicOrigin.Of(request) + ApiRoutes.OrchestrationPath(instanceId);

    /// <summary>
    /// The 202 answer of a started orchestration, in the shape of Durable Functions' check-status response; its links use
    /// the origin callers reached the app at (<see cref="PublicOrigin"/>), not the worker's own http.
    /// </summary>
    public static IResult CheckStatus(HttpRequest request, string instanceId)
    {
        var root = StatusUri(request, instanceId);
        var payload = new CheckStatusAnswer(
            instanceId,
            root,
            root + "/raiseEvent/{eventName}",
            root + "/terminate?reason={text}",
            root,
            root + "/approve",
            root + "/reject");
        return new WithHeader(Json(payload, StatusCodes.Status202Accepted), Microsoft.Net.Http.Headers.HeaderNames.Location, root);
    }

    /// <summary>
    /// An instance in the shape Durable Functions' HTTP API gives it. A failed run reports its failure's message even
    /// where the engine kept it only as the output.
    /// </summary>
    public static RunStatus Describe(OrchestrationMetadata instance)
    {
        var failure = instance.FailureDetails;
        RunFailure? failed = failure is not null
            ? new RunFailure(failure.ErrorType, failure.ErrorMessage)
            : instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed
                ? new RunFailure("unknown", Unquote(instance.SerializedOutput) ?? "the run failed without a message")
                : null;
        // A terminated run's last status is the stage it was stopped in; it reads as terminated, naming that stage.
        var progress = instance.RuntimeStatus == OrchestrationRuntimeStatus.Terminated && Progress(instance) is { } last && last.Stage != TrainingStages.Terminated
            ? JsonSerializer.SerializeToNode(new TrainingProgress(TrainingStages.Terminated, Version: last.Version, StoppedDuring: last.Detail), ApiJson.Compact)
            : Parse(instance.SerializedCustomStatus);
        return new RunStatus(
            instance.Name,
            instance.InstanceId,
            instance.RuntimeStatus.ToString(),
            Parse(instance.SerializedInput),
            failed is null ? Parse(instance.SerializedOutput) : null,
            progress,
            instance.CreatedAt.UtcDateTime,
            instance.LastUpdatedAt.UtcDateTime,
            failed);
    }

    /// <summary>The instance; 404 when there is none, 410 when its history was purged (its id is not used again).</summary>
    private async Task<OrchestrationMetadata> FindAsync(string instanceId, DurableTaskClient workflows, CancellationToken ct)
    {
        if (!InstanceIds.IsValid(instanceId))
        {
            throw new BadRequestException($"'{instanceId}' is not a valid instance id.", Field("instanceId", InstanceIds.Rule));
        }
        if (await workflows.GetInstanceAsync(instanceId, getInputsAndOutputs: true, ct) is { } instance) return instance;
        if (await purged.FindAsync(instanceId, ct) is { } purge)
        {
            throw new GoneException($"Orchestration '{instanceId}' was purged at {purge.At:u} by {purge.By}{(purge.Reason is { } why ? $" ({why})" : "")}: "
                + "its history is gone, and its id is not given to another run. Its experiment runs and audit records are kept.");
        }
        throw new NotFoundException($"There is no orchestration '{instanceId}'.");
    }

    private static string ModelOf(OrchestrationMetadata instance) => ReadInput(instance)?.Model ?? "";

    private static TrainingRequest? ReadInput(OrchestrationMetadata instance)
    {
        try
        {
            return instance.ReadInputAs<TrainingRequest>();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A training run's custom status, or null for another orchestration or none.</summary>
    private static TrainingProgress? Progress(OrchestrationMetadata instance)
    {
        if (instance.Name != nameof(TrainingOrchestrator)) return null;
        try
        {
            return instance.ReadCustomStatusAs<TrainingProgress>();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonNode? Parse(string? serialized)
    {
        if (string.IsNullOrEmpty(serialized)) return null;
        try
        {
            return JsonNode.Parse(serialized);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(serialized);
        }
    }

    private static string? Unquote(string? serialized) => Parse(serialized) switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var node => node.ToJsonString(),
    };


    /// <summary>The optional body of train: the dataset version (else the latest) and why, kept in the audit.</summary>
    public sealed record TrainBody(string? DatasetVersion = null, [property: System.Text.Json.Serialization.JsonConverter(typeof(Reasons.JsonConverter))] string? Reason = null);
}

/// <summary>A run as the API shows it: Durable Functions' instance status, with the failure's message where it failed.</summary>
public sealed record RunStatus(
    string Name,
    string InstanceId,
    string RuntimeStatus,
    JsonNode? Input,
    JsonNode? Output,
    JsonNode? CustomStatus,
    DateTime CreatedTime,
    DateTime LastUpdatedTime,
    RunFailure? FailureDetails);

public sealed record RunFailure(string ErrorType, string ErrorMessage);
