using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.OpenApi;
using Serverless.Core.Api;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Core.Hosting;
using Microsoft.DurableTask.Client;
using Serverless.LocalHost.Durable;
using Serverless.LocalHost.Triggers;
using Serverless.Orchestrations;

namespace Serverless.LocalHost;

/// <summary>
/// The local host: the HTTP routes of SPEC.md on Core Tools' default address, the polling blob trigger and the
/// Durable Task engine, over the same shared services the Functions app uses.
/// </summary>
public static class LocalHostApp
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        builder.Services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section);
        builder.Services.AddOptions<BlobTriggerOptions>().BindConfiguration(BlobTriggerOptions.Section);

        builder.AddPipelineCore();
        builder.AddPipelineIngestion();
        builder.AddPipelineTraining();
        builder.AddPipelineOrchestrations();
        builder.AddPipelineApi();
        builder.AddPipelineDashboard();
        builder.AddPipelineDrift();
        builder.AddLocalDurableEngine();
        builder.AddPipelineTelemetry();
        builder.Services.AddPipelineOpenApi();

        builder.Services.AddSingleton<BlobReceipts>();
        builder.Services.AddSingleton<IncomingBlobPoller>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IncomingBlobPoller>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<DriftTimerService>();
        configure?.Invoke(builder);
        if (ApiDocument.IsBuildTimeGeneration) builder.Services.RemoveAll<IHostedService>();

        var app = builder.Build();
        // The fault's problem is UnhandledFault's, as the Functions worker's middleware answers it (a 503 for storage unreachable).
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = async context =>
                await UnhandledFault.WriteAsync(context, context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()!.Error),
        });
        app.UseStatusCodePages();
        // HEAD is answered wherever GET is (RFC 9110 asks it of every server): routed as the GET, whose headers go out
        // and whose body the server drops, as it does for every HEAD request. Before routing, so the GET route is chosen.
        app.Use((context, next) =>
        {
            if (HttpMethods.IsHead(context.Request.Method)) context.Request.Method = HttpMethods.Get;
            return next(context);
        });
        app.UseRouting();
        MapRoutes(app);
        return app;
    }

    /// <summary>The routes of SPEC.md; admin routes carry the key filter.</summary>
    public static void MapRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/" + ApiRoutes.Prefix);
        var admin = app.MapGroup("/" + ApiRoutes.Prefix).AddEndpointFilter<AdminKeyFilter>();
        admin.DescribeAdmin();
        app.MapPipelineOpenApi();

        api.MapGet(ApiRoutes.Health, (HttpRequest r, PipelineApi h, CancellationToken ct) => h.HealthAsync(r, ct))
            .Describe<HealthAnswer>("Health", "Liveness, the models, and the production version this host has loaded (503: storage cannot be reached)", 200, 503);
        api.MapGet(ApiRoutes.Models, (HttpRequest r, PipelineApi h, CancellationToken ct) => h.ListModelsAsync(r, ct))
            .Describe<ModelList>("ListModels", "Every model with its production and latest versions and headline test metrics");
        api.MapGet(ApiRoutes.Model, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.GetModelAsync(model, r, ct))
            .Describe<ModelView>("GetModel", "A model: aliases, versions, history, latest dataset, input signature and an example request", 200, 404);
        api.MapGet(ApiRoutes.Version, (string model, string version, HttpRequest r, PipelineApi h, CancellationToken ct) => h.GetVersionAsync(model, version, r, ct))
            .Describe<VersionAnswer>("GetVersion", "A version's manifest (lineage, metrics, sha256) and model card; 2 is read as v2", 200, 404);
        api.MapPost(ApiRoutes.Predict, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.PredictAsync(model, r, ct))
            .Describe<PredictionResponse>("Predict", "Predictions for one JSON object of feature values, or {\"rows\": [...]}; the model's inputSignature lists the fields", 200, 404, 409, 413, 503)
            .Body<JsonObject>().Query("version", "pin a version (v2, or 2)").Query("alias", "the version an alias points at, e.g. staging").RequestIdHeader();
        api.MapGet(ApiRoutes.Runs, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.ListRunsAsync(model, r, ct))
            .Describe<RunList>("ListRuns", "Experiment runs (one per trained candidate) with their validation metrics", 200, 404)
            .Query("sort", "a metric to sort by, best first: " + string.Join(", ", Enum.GetValues<TaskKind>().SelectMany(Metrics.For).Distinct()))
            .Query(PipelineApi.OrchestrationParameter, "only this training run's candidates")
            .Query("top", $"page size, 1 to {PipelineApi.MaxRunsPage} (the default)", JsonSchemaType.Integer).Query("skip", "runs to skip", JsonSchemaType.Integer);
        api.MapGet(ApiRoutes.Orchestrations, (HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.ListAsync(r, w, ct))
            .Describe<RunPage>("ListOrchestrations", "Training runs, newest first, paged")
            .Query("model", "only this model's runs").Query("status", "runtime statuses, comma-separated (Running, Completed, Failed, ...)")
            .Query("top", "page size, 1 to 100 (default 20)", JsonSchemaType.Integer).Query("skip", "runs to skip", JsonSchemaType.Integer);
        api.MapGet(ApiRoutes.Orchestration, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.GetAsync(instanceId, w, r, ct))
            .Describe<RunStatus>("GetOrchestration", "A training run's status, in the shape of Durable Functions' instance status (410: purged)", 200, 404, 410);
        api.MapGet(ApiRoutes.Audit, (HttpRequest r, PipelineApi h, CancellationToken ct) => h.ListAuditAsync(r, ct))
            .Describe<AuditList>("ListAudit", "The audit log, newest first, filtered and paged").Query(AuditQueries.ModelParameter, "only this model's records")
            .Query(AuditQueries.ActionParameter, "only this action").Query(AuditQueries.FromParameter, "at or after (ISO 8601)").Query(AuditQueries.ToParameter, "before (ISO 8601)")
            .Query(AuditQueries.MaxParameter, "most records, 1 to 1000 (default 100)", JsonSchemaType.Integer)
            .Query(AuditQueries.PageParameter, "the page to continue from, as the answer's next link gives it");
        api.MapMonitoringRoutes();
        api.MapDatasetRoutes();

        admin.MapPut(ApiRoutes.Spec, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.PutSpecAsync(model, r, ct))
            .Describe<SpecPutAnswer>("PutSpec", "Set the model spec (label, task, trainers, gate, approval, drift); the answer names the version in force and notes when the latest data must be uploaded again").Body<ModelSpec>()
            .Query(PipelineApi.ReasonParameter, "why; kept with the spec version and in the audit");
        admin.MapPost(ApiRoutes.Train, (string model, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.TrainAsync(model, r, w, ct))
            .Describe<CheckStatusAnswer>("Train", "Retrain on the current (or a named) dataset version; 202 with status URLs (409 while the model has no data, or when the spec in force no longer describes the data)", 202, 404, 409).Body<RunsApi.TrainBody>(optional: true);
        admin.MapPost(ApiRoutes.Promote, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.PromoteAsync(model, r, ct))
            .Describe<AliasesAnswer>("Promote", "Move production to a version (force: past a failed gate, a pending approval or an archive); audited", 200, 404, 409).Body<PipelineApi.PromoteBody>();
        admin.MapPost(ApiRoutes.Rollback, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.RollbackAsync(model, r, ct))
            .Describe<AliasesAnswer>("Rollback", "Move production back to the version before; audited", 200, 404, 409).Body<ReasonBody>(optional: true);
        admin.MapRunRegistration();
        admin.MapPost(ApiRoutes.Approve, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.ApproveAsync(instanceId, r, w, ct))
            .Describe<DecisionAnswer>("Approve", "Approve the version a run waits with at its approval gate", 202, 404, 409, 410).Body<ReasonBody>(optional: true);
        admin.MapPost(ApiRoutes.Reject, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.RejectAsync(instanceId, r, w, ct))
            .Describe<DecisionAnswer>("Reject", "Reject the version a run waits with at its approval gate", 202, 404, 409, 410).Body<ReasonBody>(optional: true);
        admin.MapPost(ApiRoutes.Terminate, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.TerminateAsync(instanceId, r, w, ct))
            .Describe<TerminateAnswer>("Terminate", "End a running training run (one waiting at its approval gate rejects its version)", 202, 404, 409, 410).Query("reason", "why; kept as the run's output (or the body's reason)").Body<ReasonBody>(optional: true);
        admin.MapPost(ApiRoutes.RaiseEvent, (string instanceId, string eventName, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.RaiseEventAsync(instanceId, eventName, r, w, ct))
            .Describe("RaiseEvent", "Send an event to a running training run", 202, 404, 409, 410).Body<JsonElement>(optional: true);
        api.MapDriftRoutes(admin);
        admin.MapDelete(ApiRoutes.Orchestration, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.PurgeAsync(instanceId, r, w, ct))
            .Describe<PurgeAnswer>("Purge", "Delete an ended run's history; its id is not given to another run", 200, 404, 409, 410).Body<ReasonBody>(optional: true);
        api.MapGovernanceRoutes(admin);
        app.MapDashboard();
    }
}
