using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Api;
using Serverless.Core.Hosting;
using Serverless.Functions.Durable;
using Serverless.Orchestrations;

// The Functions app registers the same services, through the same extensions, as the local host.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.Configure<WorkerOptions>(options => options.Serializer = DurablePayloads.Serializer);
builder.AddPipelineCore();
builder.AddPipelineIngestion();
builder.AddPipelineTraining();
builder.AddPipelineOrchestrations();
builder.Services.AddSingleton<PipelineApi>();
builder.Services.AddProblemDetails();
builder.Build().Run();
