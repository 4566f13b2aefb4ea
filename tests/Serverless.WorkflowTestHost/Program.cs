using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Hosting;
using Serverless.Testing;

// Usage: Serverless.WorkflowTestHost --Pipeline:Storage:ConnectionString=... --Pipeline:Storage:TablePrefix=...
var builder = Host.CreateApplicationBuilder(args);
builder.AddPipelineCore();
builder.AddDurableWorkflows();
builder.Services.AddTestWorkflows();
using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("ready");
await host.WaitForShutdownAsync();
