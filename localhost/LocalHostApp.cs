using Serverless.Core.Api;
using Serverless.Core.Hosting;
using Microsoft.DurableTask.Client;
using Serverless.LocalHost.Durable;
using Serverless.LocalHost.Triggers;
using Serverless.Orchestrations;
using Microsoft.Extensions.DependencyInjection.Extensions;

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

        builder.Services.AddSingleton<BlobReceipts>();
        builder.Services.AddSingleton<IncomingBlobPoller>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IncomingBlobPoller>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<DriftTimerService>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        MapRoutes(app);
        return app;
    }

    /// <summary>The routes of SPEC.md; admin routes carry the key filter.</summary>
    public static void MapRoutes(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/" + ApiRoutes.Prefix);
        var admin = app.MapGroup("/" + ApiRoutes.Prefix).AddEndpointFilter<AdminKeyFilter>();

        api.MapGet(ApiRoutes.Health, (PipelineApi h, CancellationToken ct) => h.HealthAsync(ct));
        api.MapGet(ApiRoutes.Models, (PipelineApi h, CancellationToken ct) => h.ListModelsAsync(ct));
        api.MapGet(ApiRoutes.Model, (string model, PipelineApi h, CancellationToken ct) => h.GetModelAsync(model, ct));
        api.MapGet(ApiRoutes.Version, (string model, string version, PipelineApi h, CancellationToken ct) => h.GetVersionAsync(model, version, ct));
        api.MapPost(ApiRoutes.Predict, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.PredictAsync(model, r, ct));
        api.MapGet(ApiRoutes.Runs, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.ListRunsAsync(model, r, ct));
        api.MapGet(ApiRoutes.Orchestrations, (HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.ListAsync(r, w, ct));
        api.MapGet(ApiRoutes.Orchestration, (string instanceId, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.GetAsync(instanceId, w, ct));
        api.MapGet(ApiRoutes.Audit, (HttpRequest r, PipelineApi h, CancellationToken ct) => h.ListAuditAsync(r, ct));
        api.MapMonitoringRoutes();

        admin.MapPut(ApiRoutes.Spec, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.PutSpecAsync(model, r, ct));
        admin.MapPost(ApiRoutes.Train, (string model, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.TrainAsync(model, r, w, ct));
        admin.MapPost(ApiRoutes.Promote, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.PromoteAsync(model, r, ct));
        admin.MapPost(ApiRoutes.Rollback, (string model, HttpRequest r, PipelineApi h, CancellationToken ct) => h.RollbackAsync(model, r, ct));
        admin.MapPost(ApiRoutes.Approve, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.ApproveAsync(instanceId, r, w, ct));
        admin.MapPost(ApiRoutes.Reject, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.RejectAsync(instanceId, r, w, ct));
        admin.MapPost(ApiRoutes.Terminate, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.TerminateAsync(instanceId, r, w, ct));
        admin.MapPost(ApiRoutes.RaiseEvent, (string instanceId, string eventName, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.RaiseEventAsync(instanceId, eventName, r, w, ct));
        api.MapDriftRoutes(admin);
        admin.MapDelete(ApiRoutes.Orchestration, (string instanceId, HttpRequest r, RunsApi h, DurableTaskClient w, CancellationToken ct) => h.PurgeAsync(instanceId, r, w, ct));
        app.MapDashboard();
    }
}
