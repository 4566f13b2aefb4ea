using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Core.Api;
using Serverless.Functions.Durable;

namespace Serverless.Functions.Triggers;

/// <summary>
/// The HTTP API of SPEC.md on Azure Functions: each function hands the request to the shared <see cref="PipelineApi"/>
/// and writes its result, so the answers are byte for byte those of the local host. Admin routes need a function key.
/// </summary>
public sealed class HttpFunctions(PipelineApi api)
{
    [Function("Health")]
    public Task<IActionResult> Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest req) =>
        Write(req, api.HealthAsync(req.HttpContext.RequestAborted));

    [Function("ListModels")]
    public Task<IActionResult> ListModels([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "models")] HttpRequest req) =>
        Write(req, api.ListModelsAsync(req.HttpContext.RequestAborted));

    [Function("GetModel")]
    public Task<IActionResult> GetModel([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "models/{model}")] HttpRequest req, string model) =>
        Write(req, api.GetModelAsync(model, req.HttpContext.RequestAborted));

    [Function("GetVersion")]
    public Task<IActionResult> GetVersion([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "models/{model}/versions/{version}")] HttpRequest req, string model, string version) =>
        Write(req, api.GetVersionAsync(model, version, req.HttpContext.RequestAborted));

    [Function("Predict")]
    public Task<IActionResult> Predict([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "models/{model}/predict")] HttpRequest req, string model) =>
        Write(req, api.PredictAsync(model, req, req.HttpContext.RequestAborted));

    [Function("ListRuns")]
    public Task<IActionResult> ListRuns([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "models/{model}/runs")] HttpRequest req, string model) =>
        Write(req, api.ListRunsAsync(model, req, req.HttpContext.RequestAborted));

    [Function("ListAudit")]
    public Task<IActionResult> ListAudit([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "audit")] HttpRequest req) =>
        Write(req, api.ListAuditAsync(req, req.HttpContext.RequestAborted));

    [Function("GetOrchestration")]
    public Task<IActionResult> GetOrchestration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "orchestrations/{instanceId}")] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, api.GetOrchestrationAsync(instanceId, new DurableWorkflowClient(client), req.HttpContext.RequestAborted));

    [Function("PutSpec")]
    public Task<IActionResult> PutSpec([HttpTrigger(AuthorizationLevel.Function, "put", Route = "models/{model}/spec")] HttpRequest req, string model) =>
        Write(req, api.PutSpecAsync(model, req, req.HttpContext.RequestAborted));

    [Function("Train")]
    public Task<IActionResult> Train(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "models/{model}/train")] HttpRequest req, string model,
        [DurableClient] DurableTaskClient client) =>
        Write(req, api.TrainAsync(model, req, new DurableWorkflowClient(client), req.HttpContext.RequestAborted));

    [Function("Promote")]
    public Task<IActionResult> Promote([HttpTrigger(AuthorizationLevel.Function, "post", Route = "models/{model}/promote")] HttpRequest req, string model) =>
        Write(req, api.PromoteAsync(model, req, req.HttpContext.RequestAborted));

    [Function("Rollback")]
    public Task<IActionResult> Rollback([HttpTrigger(AuthorizationLevel.Function, "post", Route = "models/{model}/rollback")] HttpRequest req, string model) =>
        Write(req, api.RollbackAsync(model, req, req.HttpContext.RequestAborted));

    [Function("Approve")]
    public Task<IActionResult> Approve(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "orchestrations/{instanceId}/approve")] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, api.ApproveAsync(instanceId, req, new DurableWorkflowClient(client), req.HttpContext.RequestAborted));

    [Function("Reject")]
    public Task<IActionResult> Reject(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "orchestrations/{instanceId}/reject")] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, api.RejectAsync(instanceId, req, new DurableWorkflowClient(client), req.HttpContext.RequestAborted));

    [Function("Terminate")]
    public Task<IActionResult> Terminate(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "orchestrations/{instanceId}/terminate")] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, api.TerminateAsync(instanceId, req, new DurableWorkflowClient(client), req.HttpContext.RequestAborted));

    [Function("RaiseEvent")]
    public Task<IActionResult> RaiseEvent(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "orchestrations/{instanceId}/raiseEvent/{eventName}")] HttpRequest req,
        string instanceId, string eventName, [DurableClient] DurableTaskClient client) =>
        Write(req, api.RaiseEventAsync(instanceId, eventName, req, new DurableWorkflowClient(client), req.HttpContext.RequestAborted));

    [Function("Purge")]
    public Task<IActionResult> Purge(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "orchestrations/{instanceId}")] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, api.PurgeAsync(instanceId, req, new DurableWorkflowClient(client), req.HttpContext.RequestAborted));

    /// <summary>Executes the shared handler's result on the request's context, as the local host's minimal API does.</summary>
    private static async Task<IActionResult> Write(HttpRequest req, Task<IResult> result)
    {
        await (await result).ExecuteAsync(req.HttpContext);
        return new EmptyResult();
    }
}
