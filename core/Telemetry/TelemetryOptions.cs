namespace Serverless.Core.Telemetry;

/// <summary>Where traces and metrics go, bound from <c>Pipeline:Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Pipeline:Telemetry";

    /// <summary>
    /// <c>None</c>, <c>Console</c> or <c>Otlp</c>. Independent of it, Azure Monitor (Application Insights) receives them
    /// whenever <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set.
    /// </summary>
    public TelemetryExporter Exporter { get; set; } = TelemetryExporter.None;

    /// <summary>The OTLP collector (gRPC); empty: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, else http://localhost:4317.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>The <c>service.name</c> resource attribute (on Azure, <c>OTEL_SERVICE_NAME</c> or the app's name wins).</summary>
    public string ServiceName { get; set; } = "serverless-mlops";
}

/// <summary>Exporters of <see cref="TelemetryOptions.Exporter"/>.</summary>
public enum TelemetryExporter
{
    None,
    Console,
    Otlp,
}
