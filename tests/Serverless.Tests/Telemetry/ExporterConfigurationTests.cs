using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Telemetry;

/// <summary>Pipeline:Telemetry:Exporter decides whether the host collects traces and metrics at all.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ExporterConfigurationTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("None", false)]
    [InlineData("Console", true)]
    [InlineData("Otlp", true)]
    public async Task Exporter_FromConfiguration_DecidesWhetherProvidersExist(string exporter, bool collected)
    {
        await using var host = await TestHost.StartAsync(azurite, new()
        {
            ["Pipeline:Telemetry:Exporter"] = exporter,
            // A closed loopback port: the OTLP exporter's sends fail quietly.
            ["Pipeline:Telemetry:OtlpEndpoint"] = $"http://127.0.0.1:{AzuriteFixture.FreePort()}",
        });

        var health = await host.Client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal((collected, collected), (host.Services.GetService<TracerProvider>() is not null, host.Services.GetService<MeterProvider>() is not null));
    }
}
