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

namespace Serverless.Core.Api;

using static ApiResults;

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
    Monitoring.LiveMetrics live,
    Monitoring.PredictionLogBuffer predictionLog,
    ILogger<PipelineApi> logger)
{
    public Task<IResult> HealthAsync(CancellationToken ct) => Guard(logger, async () =>
    {
        var models = await registry.ListModelsAsync(ct);
        return Json(new
        {
            Status = "healthy",
            Models = models,
            Loaded = predictions.Loaded.Select(l => new { Model = l.Key, Version = l.Value }),
            HeldVersions = predictions.HeldVersions.Count,
            PredictionLog = predictionLog.Counts,
        });
    });

    public Task<IResult> ListModelsAsync(CancellationToken ct) => Guard(logger, async () =>
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

    public Task<IResult> GetModelAsync(string model, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        var doc = await registry.GetAsync(model, ct);
        var dataset = await datasets.GetLatestAsync(model, ct);
        if (doc is null && dataset is null) throw new NotFoundException($"There is no model '{model}': drop a data file into incoming/{model}/ to create it.");
        return Json(new
        {
            Model = model,
            Aliases = doc?.Aliases ?? [],
            Versions = (doc?.Versions ?? []).Select(v => new
            {
                v.Version, v.CreatedAt, v.DatasetVersion, v.Trainer, v.PrimaryMetric, v.TestMetrics, v.Status, v.OrchestrationId,
                Run = v.OrchestrationId is null ? null : ApiRoutes.OrchestrationPath(v.OrchestrationId),
            }),
            Links = new { Runs = ApiRoutes.OrchestrationsOf(model), Candidates = ApiRoutes.RunsOf(model) },
            History = doc?.History ?? [],
            LatestDataset = dataset is null ? null : new { dataset.Version, dataset.Rows, dataset.CreatedAt, dataset.Schema.Label, dataset.Schema.Task, dataset.Schema.Inferred },
            // Logged predictions joined with feedback: per version counts and metrics, and shadow agreement.
            Live = doc is null ? null : await live.ComputeAsync(model, ct),
        });
    });

    public Task<IResult> GetVersionAsync(string model, string version, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        var manifest = await registry.GetManifestAsync(model, version, ct)
            ?? throw new NotFoundException($"Model '{model}' has no version '{version}'.");
        var card = await registry.GetCardAsync(model, version, ct);
        return Json(new { Manifest = manifest, Card = card });
    });

    public Task<IResult> PutSpecAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        var spec = await ReadJsonAsync<ModelSpec>(request, strict: true, ct) ?? throw new BadRequestException("The body must be a JSON object (the model spec), not null.");
        ModelSpecValidation.Validate(spec);
        await specs.SetAsync(model, spec, ct);
        await audit.RecordAsync("spec", model, Actor(request), spec, ct);
        return Json(spec);
    });

    /// <summary>
    /// <c>POST /api/models/{model}/predict</c>: one JSON object (one row) or <c>{"rows": [...]}</c>. The production version
    /// answers, unless the query pins one: <c>?version=v2</c> (that version) or <c>?alias=staging</c> (the version the
    /// alias points at), not both. The answer names the model, the <c>modelVersion</c> that answered and the
    /// <c>requestId</c>, and per row what the task has (regression: <c>score</c>; binary: <c>label</c>, <c>probability</c>
    /// of the positive class, <c>score</c>; multiclass: <c>label</c>, <c>probabilities</c>) plus <c>imputed</c>, the fields
    /// the model filled in, when there were any. The request id is the caller's <c>x-request-id</c> header when it is a
    /// safe token (else a new one) and is sent back in that header, on errors too. Errors: 400 (invalid JSON, unknown
    /// field, wrong type, missing field the model cannot fill in, bad query; each field named with its row as
    /// <c>rows[i].field</c>), 404 (no such model, version or alias), 409 (no production version), 413 (body over
    /// <see cref="MaxBodyBytes"/> or more rows than <see cref="PredictionOptions.MaxRows"/>), 503 (the version failed its
    /// integrity check and this host holds no verified copy).
    /// </summary>
    public Task<IResult> PredictAsync(string model, HttpRequest request, CancellationToken ct)
    {
        var incoming = request.Headers[RequestId.Header];
        var requestId = RequestId.Accept(incoming.Count > 0 ? incoming[0] : null);
        request.HttpContext.Response.Headers[RequestId.Header] = requestId;
        return Guard(logger, async () =>
        {
            CheckModelName(model);
            var selector = PredictSelector(request);
            using var document = await ReadDocumentAsync(request, ct);
            var response = await predictions.PredictAsync(model, document.RootElement, selector, requestId, ct);
            // Serialized up front so the answer goes out with a Content-Length rather than chunked, and unindented: cheaper per request.
            return Results.Bytes(JsonSerializer.SerializeToUtf8Bytes(response, PredictionResponse.WireOptions), "application/json; charset=utf-8");
        });
    }

    /// <summary>The <c>version</c> or <c>alias</c> query parameter of a predict request.</summary>
    private static ModelSelector PredictSelector(HttpRequest request)
    {
        if (!request.QueryString.HasValue) return ModelSelector.Production;
        var version = request.Query["version"].FirstOrDefault();
        var alias = request.Query["alias"].FirstOrDefault();
        if (version is not null && alias is not null)
        {
            throw new BadRequestException("Give either 'version' or 'alias', not both.", Field("alias", "not with 'version'"));
        }
        if (version is not null && !ModelSelector.IsVersion(version))
        {
            throw new BadRequestException($"'{Truncate(version)}' is not a version; versions are named v1, v2, ...", Field("version", "v followed by a number, e.g. v2"));
        }
        if (alias is not null && !ModelSelector.IsAlias(alias))
        {
            throw new BadRequestException($"'{Truncate(alias)}' is not an alias name; aliases are like production or staging.", Field("alias", ModelSelector.AliasRule));
        }
        return new ModelSelector(version, alias);
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    public Task<IResult> PromoteAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
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

    public Task<IResult> RollbackAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
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

    public Task<IResult> ListRunsAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
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

    public Task<IResult> ListAuditAsync(HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
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


    private sealed record PromoteBody(string? Version, string? Reason);

    private sealed record ReasonBody(string? Reason, string? By);
}
