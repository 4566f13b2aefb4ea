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
public sealed partial class PipelineApi(
    ModelRegistry registry,
    SpecIntake specIntake,
    ModelSpecStore specs,
    ModelLifecycle lifecycle,
    DatasetStore datasets,
    QuarantineStore quarantine,
    PredictionService predictions,
    ModelIntegrity integrity,
    ExperimentRuns runs,
    ModelPresence presence,
    AuditLog audit,
    Monitoring.LiveMetrics live,
    Monitoring.PredictionLogBuffer predictionLog,
    ILogger<PipelineApi> logger)
{
    /// <summary>
    /// How long <c>GET /api/health</c> waits for storage: a probe must hear within its own timeout that storage cannot be
    /// reached, not after the storage clients' retries (20 s and more).
    /// </summary>
    public static readonly TimeSpan HealthStorageBudget = TimeSpan.FromSeconds(3);

    public Task<IResult> HealthAsync(HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(HealthStorageBudget);
        IReadOnlyList<string> models;
        try
        {
            models = await registry.ListModelsAsync(budget.Token);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            // Storage gave no answer in time: a fault the host answers 503 (UnhandledFault), as any route meeting it does.
            throw new TimeoutException($"Storage did not answer within {HealthStorageBudget.TotalSeconds:0} s.", e);
        }
        var unserved = predictions.Unserved;
        return Json(new HealthAnswer(unserved.Count == 0 ? HealthAnswer.Healthy : HealthAnswer.Degraded, models,
            [.. predictions.Loaded.Select(l => new LoadedVersion(l.Key, l.Value))], predictions.HeldVersions.Count, predictionLog.Counts, unserved));
    });

    /// <summary>
    /// <c>GET /api/models</c>: every model the pipeline holds anything of: registered versions, a dataset version (its
    /// runs may have failed their gate, or still be going) or only quarantined files, as <c>GET /api/models/{model}</c>
    /// answers for each. A model without a registered version is listed with none.
    /// </summary>
    public Task<IResult> ListModelsAsync(HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        var registered = await registry.ListModelsAsync(ct);
        var withData = await datasets.ListModelsAsync(ct);
        var withQuarantine = await quarantine.ListModelsAsync(ct);
        var withSpec = await specs.ListModelsAsync(ct);
        var models = new List<ModelSummary>();
        // Files dropped under no valid model name are listed last, apart from the models ('_' would sort them first).
        foreach (var name in registered.Union(withData).Union(withQuarantine).Union(withSpec).OrderBy(n => n == DropZoneNames.InvalidFolder).ThenBy(n => n, StringComparer.Ordinal))
        {
            var doc = registered.Contains(name) ? await registry.GetAsync(name, ct) : null;
            if (doc is null)
            {
                models.Add(new ModelSummary(name, null, null, null, 0, null, null));
                continue;
            }
            doc.Aliases.TryGetValue(ModelRegistry.Production, out var production);
            var current = doc.Versions.Find(v => v.Version == production);
            models.Add(new ModelSummary(name, production, doc.Aliases.GetValueOrDefault(ModelRegistry.Staging), LatestVersion(doc), doc.Versions.Count, current?.PrimaryMetric, current?.TestMetrics,
                doc.Versions.Count(v => v.Status == VersionStatus.PendingApproval)));
        }
        return Json(new ModelList(models));
    });

    public Task<IResult> GetModelAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        // The folder of files dropped under no valid model name answers as a model with quarantined files only, as the models list names it.
        if (model != DropZoneNames.InvalidFolder) CheckModelName(model);
        var doc = await registry.GetAsync(model, ct);
        var dataset = await datasets.GetLatestAsync(model, ct);
        var quarantined = doc is null && dataset is null ? await quarantine.ListAsync(model, ct) : [];
        if (doc is null && dataset is null && quarantined.Count == 0 && await specs.GetCurrentAsync(model, ct) is null) throw ModelPresence.NotFound(model);
        var (signature, example) = await SignatureAsync(model, doc, ct);
        return Json(new ModelView(
            model,
            doc?.Aliases ?? [],
            // Not a version whose bytes failed their check here: the rollback would be refused.
            doc is not null && ModelRegistry.FindRollbackTarget(doc).To is { } rollbackTo && !integrity.HasFailed(model, rollbackTo) ? rollbackTo : null,
            LatestVersion(doc),
            // A version whose bytes failed their check on this host says so beside its status: it cannot be promoted or served.
            [.. (doc?.Versions ?? []).Select(v => integrity.HasFailed(model, v.Version) ? VersionSummary.Of(v) with { IntegrityFailed = true } : VersionSummary.Of(v))],
            new ModelLinks(ApiRoutes.OrchestrationsOf(model), ApiRoutes.RunsOf(model), ApiRoutes.PredictOf(model), ApiRoutes.DatasetsOf(model)),
            doc?.History ?? [],
            dataset is null ? null : new DatasetSummary(dataset.Version, dataset.Rows, dataset.CreatedAt, dataset.Schema.Label, dataset.Schema.Task, dataset.Schema.Inferred, dataset.RowsRejected),
            signature,
            example,
            doc?.ChampionRetained is { Count: > 0 } retained ? retained : null,
            // Logged predictions joined with feedback: per version counts and metrics, and shadow agreement.
            doc is null ? null : await live.ComputeAsync(model, ct),
            quarantined.Count == 0 ? null : [.. quarantined.Select(q => new QuarantinedSummary(q.Report.Blob, q.Report.QuarantinedAt, q.Report.ReasonCodes, q.Report.Reason))]));
    });

    public Task<IResult> GetVersionAsync(string model, string version, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        version = CheckVersionName(version);
        var manifest = await registry.GetManifestAsync(model, version, ct)
            ?? throw await presence.WithoutAsync(model, $"Model '{model}' has no version '{version}'.", ct);
        var card = await registry.GetCardAsServedAsync(model, version, ct);
        var entry = (await registry.GetAsync(model, ct))?.Versions.Find(v => v.Version == version);
        return Json(new VersionAnswer(manifest, card, entry?.Status, entry?.StatusChanged));
    });

    /// <summary>
    /// <c>PUT /api/models/{model}/spec</c>: the spec is checked in full (<see cref="ModelSpecValidation"/>) and, when it
    /// passes, stored as the model's next spec version; a 400 names every bad field and changes nothing. The optional
    /// <c>reason</c> query parameter is kept with the version and in the audit. The answer names the version in force,
    /// says whether the spec was <c>unchanged</c> (the same spec again makes no version), and carries a <c>note</c> when
    /// the latest dataset version must be uploaded again before it can be trained on under this spec.
    /// </summary>
    public Task<IResult> PutSpecAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        OnlyQueryParameters(request, ReasonParameter);
        using var document = await ReadDocumentAsync(request, ct);
        var json = System.Text.Encoding.UTF8.GetBytes(document.RootElement.GetRawText());
        var accepted = await specIntake.AcceptAsync(model, json, Actor(request), "api", Reasons.Check(Single(request, ReasonParameter), ReasonParameter), ct);
        return Json(new SpecPutAnswer(model, accepted.Version.Version, accepted.Version.Sha256, !accepted.Changed, accepted.Version.Spec, accepted.Note));
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
    public async ValueTask<IResult> PredictAsync(string model, HttpRequest request, CancellationToken ct)
    {
        var requestId = AnswerRequestId(request);
        // Guarded in place rather than through Guard's delegate: the hottest route skips a closure and a state machine; and
        // a ValueTask, so that an answer ready at once (as it is, bar a model's first load) allocates no Task.
        try
        {
            CheckModelName(model);
            var selector = PredictSelector(request);
            using var document = await ReadDocumentAsync(request, ct);
            var response = await predictions.PredictAsync(model, document.RootElement, selector, requestId, ct);
            // Unindented, with the API's JSON rules, and with a Content-Length rather than chunked: cheaper per request.
            return new PredictionAnswer(response);
        }
        catch (Exception e) when (ProblemOf(e, logger) is { } problem)
        {
            // The problem's body names the request too, as feedback's do (kept off the answered path: a success has it in its answer).
            KeepRequestIdForProblems(request, requestId);
            return problem;
        }
        catch
        {
            // Not bad input but a fault: the host answers 500 and clears the headers first, so the id goes with it this way.
            KeepRequestIdForProblems(request, requestId);
            throw;
        }
    }

    /// <summary>A query parameter given at most once (400 when it is given twice: which one was meant cannot be told).</summary>
    private static string? Single(HttpRequest request, string name)
    {
        var values = request.Query[name];
        if (values.Count > 1) throw new BadRequestException($"'{name}' is given {values.Count} times; give it once.", Field(name, "give it once"));
        return values.FirstOrDefault();
    }

    public const string ReasonParameter = "reason";
    public const string SortParameter = "sort";
    public const string OrchestrationParameter = "orchestrationId";
    public const string TopParameter = "top";
    private const string SkipParameter = "skip";

    /// <summary>Most experiment runs one page of <c>GET /api/models/{model}/runs</c> holds (also the default page).</summary>
    public const int MaxRunsPage = 1000;

    private static readonly string[] PredictParameters = [nameof(ModelSelector.Version).ToLowerInvariant(), nameof(ModelSelector.Alias).ToLowerInvariant()];

    /// <summary>The <c>version</c> or <c>alias</c> query parameter of a predict request.</summary>
    private static ModelSelector PredictSelector(HttpRequest request)
    {
        if (!request.QueryString.HasValue) return ModelSelector.Production;
        OnlyQueryParameters(request, PredictParameters);
        var version = Single(request, PredictParameters[0]);
        var alias = Single(request, PredictParameters[1]);
        if (version is not null && alias is not null)
        {
            throw new BadRequestException("Give either 'version' or 'alias', not both.", Field("alias", "not with 'version'"));
        }
        if (version is not null) version = CheckVersionName(version);
        if (alias is not null && !ModelSelector.IsAlias(alias))
        {
            throw new BadRequestException($"'{Truncate(alias)}' is not an alias name; aliases are like production or staging.", Field("alias", ModelSelector.AliasRule));
        }
        return new ModelSelector(version, alias);
    }


    /// <summary>
    /// <c>POST /api/models/{model}/promote</c> with <c>{"version": "v2", "reason": "...", "force": false}</c>: moves
    /// production. A version that failed its gate, waits for approval, was rejected, expired or archived needs
    /// <c>"force": true</c> (409 without it) and the move is audited as forced.
    /// </summary>
    public Task<IResult> PromoteAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        var body = await ReadJsonAsync<PromoteBody>(request, strict: true, ct);
        if (string.IsNullOrWhiteSpace(body?.Version)) throw new BadRequestException("Name the version to promote.", Field("version", "required, e.g. \"v2\""));
        var version = CheckVersionName(body.Version, "version");
        if (body.Force == true && string.IsNullOrWhiteSpace(body.Reason))
        {
            // Force overrides a failed gate, a pending approval, a rejection or an archive: the audit keeps why, as the refusal asks.
            throw new BadRequestException("A forced promotion needs a reason: send \"reason\": \"...\" with \"force\": true (mlops promote ... --force --reason \"...\").",
                Field("reason", "required with \"force\": true"));
        }
        var move = await lifecycle.PromoteAsync(model, version, Actor(request), body.Reason ?? "manual promotion", body.Force ?? false, ct);
        await predictions.RefreshAsync(model, ct);
        return Json(new AliasesAnswer(model, move.Document.Aliases, move.From, move.To, move.ForcedBecause is not null ? true : null, move.ForcedBecause,
            Unchanged: move.From == move.To ? true : null));
    });

    /// <summary>
    /// <c>POST /api/models/{model}/rollback</c>: moves production to the production version before the current one in
    /// the alias history (a second rollback goes further back); 409 when there is none.
    /// </summary>
    public Task<IResult> RollbackAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        var move = await lifecycle.RollbackAsync(model, Actor(request), body?.Reason ?? "manual rollback", ct);
        await predictions.RefreshAsync(model, ct);
        return Json(new AliasesAnswer(model, move.Document.Aliases, move.From, move.To, Skipped: move.Skipped));
    });

    public Task<IResult> ListRunsAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        var latest = await datasets.GetLatestAsync(model, ct);
        OnlyQueryParameters(request, SortParameter, OrchestrationParameter, TopParameter, SkipParameter);
        var sort = Single(request, SortParameter) is { } requested ? RunSort.Resolve(requested, latest?.Schema.Task) : null;
        var orchestration = Single(request, OrchestrationParameter);
        if (orchestration is not null && !InstanceIds.IsValid(orchestration))
        {
            throw new BadRequestException($"'{Truncate(orchestration)}' is not a run's instance id.", Field(OrchestrationParameter, InstanceIds.Rule));
        }
        var top = QueryInt(request, TopParameter, MaxRunsPage, 1, MaxRunsPage);
        var skip = QueryInt(request, SkipParameter, 0, 0, int.MaxValue);
        var all = await runs.ListAsync(model, sort, ct);
        // Runs are only ever trained on a dataset version: a model with neither may be one nobody created (a misspelt name).
        if (all.Count == 0 && latest is null) await presence.EnsureExistsAsync(model, ct);
        var matching = orchestration is null ? all : [.. all.Where(r => r.OrchestrationId == orchestration)];
        var list = matching.Skip(skip).Take(top).ToList();
        if (list.Count > 0 && await registry.GetAsync(model, ct) is { } doc)
        {
            var registered = await registry.RegisteredRunsAsync(doc, ct);
            list = [.. list.Select(r => registered.TryGetValue(r.RunId, out var version) ? r with { Version = version } : r)];
        }
        return Json(new RunList(model, sort, list, matching.Count, skip, top, orchestration));
    });

    /// <summary>
    /// <c>GET /api/audit</c>: newest first, filtered by <c>model</c>, <c>action</c> (one of <see cref="AuditActions.All"/>)
    /// and time (<c>from</c>, <c>to</c>: ISO 8601), <c>max</c> records a page (1 to 1000, default 100); <c>next</c> is the
    /// path of the following page, null on the last.
    /// </summary>
    public Task<IResult> ListAuditAsync(HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        var query = AuditQueries.Parse(request.Query);
        var page = await audit.QueryAsync(query, ct);
        return Json(new AuditList(page.Records, page.Next is null ? null : AuditQueries.NextPath(request.Query, query, page.Next)));
    });

    /// <summary>The body of promote: the version to move production to, why, and <c>force</c> for a version that failed its gate, waits for approval or was archived.</summary>
    public sealed record PromoteBody([property: System.Text.Json.Serialization.JsonConverter(typeof(Registry.VersionNames.JsonConverter))] string? Version,
        [property: System.Text.Json.Serialization.JsonConverter(typeof(Reasons.JsonConverter))] string? Reason = null, bool? Force = null);
}
