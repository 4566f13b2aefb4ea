using System.Diagnostics;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Instrumentation.Http;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Serverless.Core.Telemetry;

namespace Serverless.Core.Hosting;

/// <summary>Registration of traces and metrics (OpenTelemetry); both hosts call it.</summary>
public static class TelemetryHostingExtensions
{
    /// <summary>Set on Azure by infra/: traces and metrics then go to Application Insights.</summary>
    public const string AzureMonitorConnectionSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>How the Functions host is told to sign in to Application Insights: <c>ClientId=…;Authorization=AAD</c>.</summary>
    public const string AzureMonitorAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>
    /// Adds the pipeline's sources and meter, ASP.NET Core and HttpClient instrumentation, and the exporters configuration
    /// asks for (<see cref="TelemetryOptions"/>; Azure Monitor when <see cref="AzureMonitorConnectionSetting"/> is set).
    /// With no exporter nothing is collected, so requests pay nothing for it; the answer is then null. The sources are
    /// configured either way, so a tracer provider added later (a test's in-memory exporter) sees the same spans.
    /// </summary>
    public static IOpenTelemetryBuilder? AddPipelineTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section);
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var azureMonitor = builder.Configuration[AzureMonitorConnectionSetting];
        var useAzureMonitor = !string.IsNullOrWhiteSpace(azureMonitor);

        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing =>
        {
            tracing.AddSource(PipelineTelemetry.Name, PipelineTelemetry.DurableTaskSource);
            // The Azure Monitor distro adds these two itself.
            if (!useAzureMonitor) tracing.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
        });
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics =>
        {
            metrics.AddMeter(PipelineTelemetry.Name);
            metrics.AddMeter(Monitoring.PredictionLogBuffer.MeterName);
            if (!useAzureMonitor) metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
        });
        // Calls to storage and the engine's sidecar belong in the trace of the work that made them; the engine's and the
        // blob trigger's polling, which belongs to none, would otherwise start a trace every second.
        builder.Services.Configure<HttpClientTraceInstrumentationOptions>(http => http.FilterHttpRequestMessage = _ => HasParent(Activity.Current));
        builder.Services.Configure<AspNetCoreTraceInstrumentationOptions>(aspNetCore => aspNetCore.Filter = context =>
            !context.Request.Path.StartsWithSegments(SidecarServicePath, StringComparison.Ordinal));
        if (options.Exporter == TelemetryExporter.None && !useAzureMonitor) return null;

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithTracing(_ => { })
            .WithMetrics(_ => { });
        switch (options.Exporter)
        {
            case TelemetryExporter.Console:
                telemetry.WithTracing(t => t.AddConsoleExporter()).WithMetrics(m => m.AddConsoleExporter());
                break;
            case TelemetryExporter.Otlp:
                telemetry.WithTracing(t => t.AddOtlpExporter(o => Endpoint(o, options)))
                    .WithMetrics(m => m.AddOtlpExporter(o => Endpoint(o, options)));
                break;
        }
        if (useAzureMonitor)
        {
            telemetry.UseAzureMonitor(monitor =>
            {
                monitor.ConnectionString = azureMonitor;
                // infra/ turns off local (instrumentation key) authentication: sign in as the app's identity instead.
                if (EntraClientId(builder.Configuration[AzureMonitorAuthenticationSetting]) is { } clientId)
                {
                    monitor.Credential = new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
                }
            });
        }
        return telemetry;
    }

    /// <summary>The gRPC service of the local Durable Task sidecar (its requests are the engine's plumbing, not API calls).</summary>
    private const string SidecarServicePath = "/TaskHubSidecarService";

    /// <summary>Whether the HttpClient call being started (the current activity) is made inside a traced operation.</summary>
    private static bool HasParent(Activity? call) => call is not null && call.ParentSpanId != default;

    private static void Endpoint(OpenTelemetry.Exporter.OtlpExporterOptions exporter, TelemetryOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint)) exporter.Endpoint = new Uri(options.OtlpEndpoint);
    }

    /// <summary>The client id of <c>ClientId=…;Authorization=AAD</c>, or null for any other (or no) value.</summary>
    internal static string? EntraClientId(string? authentication)
    {
        if (string.IsNullOrWhiteSpace(authentication)) return null;
        var parts = authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        return parts.GetValueOrDefault("Authorization")?.Equals("AAD", StringComparison.OrdinalIgnoreCase) == true
            ? parts.GetValueOrDefault("ClientId")
            : null;
    }
}
