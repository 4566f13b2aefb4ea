using System.Text.Json;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Hosting;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.Core.Workflows;

namespace Serverless.Core.Api;

/// <summary>
/// The HTTP API of SPEC.md, written once: both hosts map their routes to these handlers, so a behaviour difference
/// between the local host and the Functions app cannot arise here. Bad input is answered with problem details naming
/// the problem (400, 404, 409, 413), never a 500.
/// </summary>
public sealed class PipelineApi(
    ModelRegistry registry,
    ModelSpecStore specs,
    DatasetStore datasets,
    PredictionService predictions,
    ExperimentRuns runs,
    AuditLog audit,
    ILogger<PipelineApi> logger)
{
    /// <summary>The orchestrator that training requests start (the orchestrations project registers it under this name).</summary>
    public const string TrainingOrchestrator = "TrainingOrchestrator";

    /// <summary>The external event that carries an approval decision.</summary>
    public const string ApprovalEvent = "approval";

    public const long MaxBodyBytes = 4 * 1024 * 1024;

    public Task<IResult> HealthAsync(CancellationToken ct) => Guard(async () =>
    {
        var models = await registry.ListModelsAsync(ct);
        return Json(new
        {
            Status = "healthy",
            Models = models,
            Loaded = predictions.Loaded.Select(l => new { Model = l.Key, Version = l.Value }),
        });
    });

    public Task<IResult> ListModelsAsync(CancellationToken ct) => Guard(async () =>
    {
        var names = await registry.ListModelsAsync(ct);
        var models = new List<object>();
        foreach (var name in names)
        {
            var doc = await registry.GetAsync(name, ct);
            if (doc is null) continue;
            doc.Aliases.TryGetValue(ModelRegistry.Production, out var production);
            var current = doc.Versions.Find(v => v.Version == production);
            models.Add(new { Model = name, Production = production, doc.LatestVersion, Versions = doc.Versions.Count, current?.PrimaryMetric, current?.TestMetrics });
        }
        return Json(new { Models = models });
    });

    public Task<IResult> GetModelAsync(string model, CancellationToken ct) => Guard(async () =>
    {
        CheckModelName(model);
        var doc = await registry.GetAsync(model, ct);
        var dataset = await datasets.GetLatestAsync(model, ct);
        if (doc is null && dataset is null) throw new NotFoundException($"There is no model '{model}': drop a data file into incoming/{model}/ to create it.");
        return Json(new
        {
            Model = model,
            Aliases = doc?.Aliases ?? [],
            Versions = doc?.Versions ?? [],
            History = doc?.History ?? [],
            LatestDataset = dataset is null ? null : new { dataset.Version, dataset.Rows, dataset.CreatedAt, dataset.Schema.Label, dataset.Schema.Task, dataset.Schema.Inferred },
        });
    });

    public Task<IResult> GetVersionAsync(string model, string version, CancellationToken ct) => Guard(async () =>
    {
        CheckModelName(model);
        var manifest = await registry.GetManifestAsync(model, version, ct)
            ?? throw new NotFoundException($"Model '{model}' has no version '{version}'.");
        var card = await registry.GetCardAsync(model, version, ct);
        return Json(new { Manifest = manifest, Card = card });
    });

    public Task<IResult> PutSpecAsync(string model, HttpRequest request, CancellationToken ct) => Guard(async () =>
    {
        CheckModelName(model);
        var spec = await ReadJsonAsync<ModelSpec>(request, strict: true, ct) ?? throw new BadRequestException("The body must be a JSON object (the model spec), not null.");
        ModelSpecValidation.Validate(spec);
        await specs.SetAsync(model, spec, ct);
        await audit.RecordAsync("spec", model, Actor(request), spec, ct);
        return Json(spec);
    });

    public Task<IResult> PredictAsync(string model, HttpRequest request, CancellationToken ct) => Guard(async () =>
    {
        CheckModelName(model);
        using var document = await ReadDocumentAsync(request, ct);
        var response = await predictions.PredictAsync(model, document.RootElement, ct);
        return Json(response);
    });

    public Task<IResult> TrainAsync(string model, HttpRequest request, IWorkflowClient workflows, CancellationToken ct) => Guard(async () =>
    {
        CheckModelName(model);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<TrainBody>(request, strict: true, ct) : null;
        var dataset = body?.DatasetVersion is { } version
            ? await datasets.GetManifestAsync(model, version, ct) ?? throw new NotFoundException($"Model '{model}' has no dataset version '{version}'.")
            : await datasets.GetLatestAsync(model, ct) ?? throw new NotFoundException($"Model '{model}' has no data yet: drop a data file into incoming/{model}/ first.");
        var instanceId = $"train-{model}-{Guid.NewGuid():N}";
        var actor = Actor(request);
        await workflows.StartAsync(TrainingOrchestrator, new { Model = model, DatasetVersion = dataset.Version, Trigger = "http", RequestedBy = actor }, instanceId, ct);
        await audit.RecordAsync("train", model, actor, new { instanceId, DatasetVersion = dataset.Version }, ct);
        return CheckStatus(request, instanceId);
    });

    public Task<IResult> PromoteAsync(string model, HttpRequest request, CancellationToken ct) => Guard(async () =>
    {
        CheckModelName(model);
        var body = await ReadJsonAsync<PromoteBody>(request, strict: true, ct);
        if (string.IsNullOrWhiteSpace(body?.Version)) throw new BadRequestException("Name the version to promote.", Field("version", "required, e.g. \"v2\""));
        var actor = Actor(request);
        var before = await registry.ResolveAliasAsync(model, ModelRegistry.Production, ct);
        var doc = await registry.SetAliasAsync(model, ModelRegistry.Production, body.Version, actor, body.Reason ?? "manual promotion", ct);
        await audit.RecordAsync("promote", model, actor, new { From = before, To = body.Version, body.Reason }, ct);
        await predictions.RefreshAsync(model, ct);
        return Json(new { Model = model, doc.Aliases });
    });

    public Task<IResult> RollbackAsync(string model, HttpRequest request, CancellationToken ct) => Guard(async () =>
    {
        CheckModelName(model);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        var actor = Actor(request);
        if (await registry.GetAsync(model, ct) is null) throw new NotFoundException($"Model '{model}' has no registered version.");
        var before = await registry.ResolveAliasAsync(model, ModelRegistry.Production, ct);
        var doc = await registry.RollbackAsync(model, actor, body?.Reason ?? "manual rollback", ct);
        await audit.RecordAsync("rollback", model, actor, new { From = before, To = doc.Aliases[ModelRegistry.Production], body?.Reason }, ct);
        await predictions.RefreshAsync(model, ct);
        return Json(new { Model = model, doc.Aliases });
    });

    public Task<IResult> ListRunsAsync(string model, HttpRequest request, CancellationToken ct) => Guard(async () =>
    {
        CheckModelName(model);
        var sort = request.Query["sort"].FirstOrDefault();
        var known = Enum.GetValues<TaskKind>().SelectMany(Metrics.For).ToHashSet(StringComparer.Ordinal);
        if (sort is not null && !known.Contains(sort))
        {
            throw new BadRequestException($"Cannot sort by '{sort}'.", Field("sort", $"one of {string.Join(", ", known)}"));
        }
        var list = await runs.ListAsync(model, sort, ct);
        return Json(new { Model = model, SortedBy = sort, Runs = list });
    });

    public Task<IResult> GetOrchestrationAsync(string instanceId, IWorkflowClient workflows, CancellationToken ct) => Guard(async () =>
    {
        var instance = await workflows.GetAsync(instanceId, ct) ?? throw new NotFoundException($"There is no orchestration '{instanceId}'.");
        return Json(instance);
    });

    public Task<IResult> ApproveAsync(string instanceId, HttpRequest request, IWorkflowClient workflows, CancellationToken ct) =>
        DecideAsync(instanceId, request, workflows, approved: true, ct);

    public Task<IResult> RejectAsync(string instanceId, HttpRequest request, IWorkflowClient workflows, CancellationToken ct) =>
        DecideAsync(instanceId, request, workflows, approved: false, ct);

    public Task<IResult> TerminateAsync(string instanceId, HttpRequest request, IWorkflowClient workflows, CancellationToken ct) => Guard(async () =>
    {
        var instance = await workflows.GetAsync(instanceId, ct) ?? throw new NotFoundException($"There is no orchestration '{instanceId}'.");
        if (IsFinished(instance.RuntimeStatus)) throw new ConflictException($"Orchestration '{instanceId}' has already ended ({instance.RuntimeStatus}).");
        var reason = request.Query["reason"].FirstOrDefault() ?? "terminated over HTTP";
        await workflows.TerminateAsync(instanceId, reason, ct);
        await audit.RecordAsync("terminate", ModelOf(instance), Actor(request), new { instanceId, reason }, ct);
        return Results.Accepted();
    });

    public Task<IResult> RaiseEventAsync(string instanceId, string eventName, HttpRequest request, IWorkflowClient workflows, CancellationToken ct) => Guard(async () =>
    {
        if (string.Equals(eventName, ApprovalEvent, StringComparison.OrdinalIgnoreCase))
        {
            throw new BadRequestException("Send approval decisions to the approve or reject route, which check and audit them.", Field("eventName", "not 'approval'"));
        }
        var instance = await workflows.GetAsync(instanceId, ct) ?? throw new NotFoundException($"There is no orchestration '{instanceId}'.");
        if (IsFinished(instance.RuntimeStatus)) throw new ConflictException($"Orchestration '{instanceId}' has already ended ({instance.RuntimeStatus}).");
        object? data = null;
        if (request.ContentLength is > 0)
        {
            using var document = await ReadDocumentAsync(request, ct);
            data = document.RootElement.Clone();
        }
        await workflows.RaiseEventAsync(instanceId, eventName, data, ct);
        return Results.Accepted();
    });

    public Task<IResult> PurgeAsync(string instanceId, HttpRequest request, IWorkflowClient workflows, CancellationToken ct) => Guard(async () =>
    {
        var instance = await workflows.GetAsync(instanceId, ct) ?? throw new NotFoundException($"There is no orchestration '{instanceId}'.");
        if (!IsFinished(instance.RuntimeStatus)) throw new ConflictException($"Orchestration '{instanceId}' is still {instance.RuntimeStatus}; terminate it before purging.");
        await workflows.PurgeAsync(instanceId, ct);
        await audit.RecordAsync("purge", ModelOf(instance), Actor(request), new { instanceId }, ct);
        return Results.Json(new { InstancesDeleted = 1 }, JsonBlobs.Options);
    });

    public Task<IResult> ListAuditAsync(HttpRequest request, CancellationToken ct) => Guard(async () =>
    {
        var model = request.Query["model"].FirstOrDefault();
        if (model is not null) CheckModelName(model);
        var maxText = request.Query["max"].FirstOrDefault();
        var max = 100;
        if (maxText is not null && (!int.TryParse(maxText, out max) || max is < 1 or > 1000))
        {
            throw new BadRequestException($"'max' must be a whole number from 1 to 1000, not '{maxText}'.", Field("max", "1 to 1000"));
        }
        return Json(new { Records = await audit.ListAsync(model, max, ct) });
    });

    private Task<IResult> DecideAsync(string instanceId, HttpRequest request, IWorkflowClient workflows, bool approved, CancellationToken ct) => Guard(async () =>
    {
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        var instance = await workflows.GetAsync(instanceId, ct) ?? throw new NotFoundException($"There is no orchestration '{instanceId}'.");
        var stage = instance.CustomStatus?["stage"]?.GetValue<string>();
        if (IsFinished(instance.RuntimeStatus) || stage != "awaitingApproval")
        {
            throw new ConflictException($"Orchestration '{instanceId}' is not waiting for approval (status {instance.RuntimeStatus}, stage {stage ?? "none"}).");
        }
        var actor = Actor(request);
        await workflows.RaiseEventAsync(instanceId, ApprovalEvent, new { Approved = approved, By = actor, body?.Reason }, ct);
        await audit.RecordAsync(approved ? "approve" : "reject", ModelOf(instance), actor, new { instanceId, body?.Reason }, ct);
        return Results.Accepted($"/api/orchestrations/{instanceId}", new { InstanceId = instanceId, Decision = approved ? "approved" : "rejected" });
    });

    /// <summary>The 202 answer of a started orchestration, in the shape of Durable Functions' check-status response.</summary>
    public static IResult CheckStatus(HttpRequest request, string instanceId)
    {
        var root = $"{request.Scheme}://{request.Host}/api/orchestrations/{Uri.EscapeDataString(instanceId)}";
        var payload = new
        {
            Id = instanceId,
            StatusQueryGetUri = root,
            SendEventPostUri = root + "/raiseEvent/{eventName}",
            TerminatePostUri = root + "/terminate?reason={text}",
            PurgeHistoryDeleteUri = root,
            ApprovePostUri = root + "/approve",
            RejectPostUri = root + "/reject",
        };
        return new WithLocation(Results.Json(payload, JsonBlobs.Options, statusCode: StatusCodes.Status202Accepted), root);
    }

    /// <summary>The caller, as named in the <c>x-user</c> header (or "api").</summary>
    public static string Actor(HttpRequest request)
    {
        var user = request.Headers["x-user"].FirstOrDefault();
        return string.IsNullOrWhiteSpace(user) ? "api" : user.Trim()[..Math.Min(user.Trim().Length, 100)];
    }

    private static bool IsFinished(WorkflowRuntimeStatus status) =>
        status is WorkflowRuntimeStatus.Completed or WorkflowRuntimeStatus.Failed or WorkflowRuntimeStatus.Terminated;

    private static string ModelOf(WorkflowInstance instance) => instance.Input?["model"]?.GetValue<string>() ?? "";

    private static void CheckModelName(string model)
    {
        if (!ModelNames.IsValid(model)) throw new BadRequestException($"'{model}' is not a valid model name: {ModelNames.Rule}.", Field("model", ModelNames.Rule));
    }

    private static Dictionary<string, string[]> Field(string name, string problem) => new() { [name] = [problem] };

    private static IResult Json(object value) => Results.Json(value, JsonBlobs.Options);

    private static async Task<JsonDocument> ReadDocumentAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) throw new PayloadTooLargeException($"The body is {request.ContentLength} bytes; the limit is {MaxBodyBytes}.");
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes) throw new PayloadTooLargeException($"The body is larger than the limit of {MaxBodyBytes} bytes.");
        }
        if (buffer.Length == 0) throw new BadRequestException("The body is empty; send a JSON object.");
        try
        {
            return JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"The body is not valid JSON: {e.Message}", Field("body", $"invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}"));
        }
    }

    private static async Task<T?> ReadJsonAsync<T>(HttpRequest request, bool strict, CancellationToken ct)
    {
        using var document = await ReadDocumentAsync(request, ct);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new BadRequestException("The body must be a JSON object.");
        try
        {
            return document.RootElement.Deserialize<T>(strict ? StrictOptions : JsonBlobs.Options);
        }
        catch (JsonException e)
        {
            var path = string.IsNullOrEmpty(e.Path) ? "body" : e.Path.TrimStart('$', '.');
            throw new BadRequestException($"The body does not fit: {e.Message}", Field(path, e.Message));
        }
    }

    private static readonly JsonSerializerOptions StrictOptions = new(JsonBlobs.Options)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Runs a handler and turns the pipeline's typed exceptions into problem details.</summary>
    private async Task<IResult> Guard(Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (BadRequestException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad request", e.Message, e.Errors.Count == 0 ? null : e.Errors);
        }
        catch (NotFoundException e)
        {
            return Problem(StatusCodes.Status404NotFound, "Not found", e.Message);
        }
        catch (ConflictException e)
        {
            return Problem(StatusCodes.Status409Conflict, "Conflict", e.Message);
        }
        catch (PayloadTooLargeException e)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", e.Message);
        }
        catch (KeyNotFoundException e)
        {
            return Problem(StatusCodes.Status404NotFound, "Not found", e.Message);
        }
        catch (RequestFailedException e) when (e.Status == 412 || e.Status == 409)
        {
            return Problem(StatusCodes.Status409Conflict, "Conflict", "The resource changed while the request ran; try again.");
        }
        catch (InvalidDataException e)
        {
            logger.LogError(e, "Integrity failure");
            return Problem(StatusCodes.Status500InternalServerError, "Integrity check failed", e.Message);
        }
    }

    private static IResult Problem(int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null)
    {
        var extensions = errors is null ? null : new Dictionary<string, object?> { ["errors"] = errors };
        return Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }

    private sealed record TrainBody(string? DatasetVersion);

    private sealed record PromoteBody(string? Version, string? Reason);

    private sealed record ReasonBody(string? Reason, string? By);

    /// <summary>A result with a Location header, as the check-status response carries.</summary>
    private sealed class WithLocation(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
