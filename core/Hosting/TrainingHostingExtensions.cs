using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Training;

namespace Serverless.Core.Hosting;

/// <summary>Registration of training and serving.</summary>
public static class TrainingHostingExtensions
{
    public static IHostApplicationBuilder AddPipelineTraining(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PredictionOptions>().BindConfiguration(PredictionOptions.Section);
        builder.Services.TryAddSingleton<DatasetStore>();
        builder.Services.AddSingleton<ModelTrainer>();
        builder.Services.AddSingleton<PredictionService>();
        builder.AddPipelinePredictionLog();
        builder.Services.AddHostedService<TrainingWarmup>();
        return builder;
    }
}
