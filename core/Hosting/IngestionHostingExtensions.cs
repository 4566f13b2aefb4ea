using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Datasets;

namespace Serverless.Core.Hosting;

/// <summary>Registration of ingestion.</summary>
public static class IngestionHostingExtensions
{
    public static IHostApplicationBuilder AddPipelineIngestion(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.Section);
        builder.Services.TryAddSingleton<DatasetStore>();
        builder.Services.TryAddSingleton<QuarantineStore>();
        builder.Services.AddSingleton<DroppedSpecs>();
        builder.Services.AddSingleton<DatasetIngestor>();
        return builder;
    }
}
