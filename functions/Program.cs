using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Api;
using Serverless.Core.Hosting;
using Serverless.Functions.Errors;
using Serverless.Functions.Identity;
using Serverless.Orchestrations;

// The Functions app registers the same services, through the same extensions, as the local host.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
// First, so that it also answers for the middleware after it: an unhandled exception is a problem+json 500, as locally.
builder.UseMiddleware<UnhandledExceptionMiddleware>();
builder.UseMiddleware<CallerMiddleware>();
// Durable stores inputs, outputs, custom status and events with the worker's serializer: the local host's JSON options.
builder.Services.Configure<WorkerOptions>(options => options.Serializer = new JsonObjectSerializer(DurablePayloads.Options));
builder.AddPipelineCore();
builder.AddPipelineIngestion();
builder.AddPipelineTraining();
builder.AddPipelineOrchestrations();
builder.AddPipelineApi();
builder.AddPipelineDashboard();
builder.AddPipelineDrift();
builder.AddPipelineTelemetry()?.UseFunctionsWorkerDefaults();
builder.Build().Run();
