using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;
using Serverless.Core.Training;

namespace Serverless.Core.Hosting;

/// <summary>Registration of the shared services; both hosts call these.</summary>
public static class PipelineHostingExtensions
{
    /// <summary>Storage, registry, spec store, experiment runs and audit log.</summary>
    public static IHostApplicationBuilder AddPipelineCore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PipelineStorageOptions>().BindConfiguration(PipelineStorageOptions.Section);
        builder.Services.AddOptions<TrainingOptions>().BindConfiguration(TrainingOptions.Section);
        builder.Services.AddSingleton<PipelineStorage>();
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton<ModelIntegrity>();
        builder.Services.AddSingleton<ModelPresence>();
        builder.Services.AddSingleton<ModelSpecStore>();
        builder.Services.AddSingleton<ExperimentRuns>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.TryAddSingleton<Datasets.DatasetStore>();
        builder.Services.AddSingleton<SpecIntake>();
        builder.Services.AddSingleton<ModelLifecycle>();
        return builder;
    }

    /// <summary>The HTTP handlers of models and the problem-details answers of errors.</summary>
    public static IHostApplicationBuilder AddPipelineApi(this IHostApplicationBuilder builder)
    {
        // A fault answered with 500 still names the request it failed, when the handler knew one (predict).
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            if (context.HttpContext.Items[Serving.RequestId.Header] is string requestId)
            {
                context.HttpContext.Response.Headers[Serving.RequestId.Header] = requestId;
                context.ProblemDetails.Extensions[Serving.RequestId.ProblemField] = requestId;
            }
            // The answers no handler wrote (no route, or not this method) still say what to do, as every other problem does,
            // and carry the request id as the answers of predict and feedback do (a GET of predict is answered here).
            if (context.ProblemDetails.Detail is null)
            {
                var request = context.HttpContext.Request;
                if (context.HttpContext.Items[Serving.RequestId.Header] is null) context.ProblemDetails.Extensions[Serving.RequestId.ProblemField] = Api.ApiResults.AnswerRequestId(request);
                var routes = $"GET /{Api.ApiRoutes.Prefix}/{Api.ApiRoutes.OpenApi} lists every route and its methods.";
                context.ProblemDetails.Detail = context.ProblemDetails.Status switch
                {
                    StatusCodes.Status404NotFound => $"There is no route {request.Method} {request.Path}. {routes}",
                    StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not take {request.Method}. {routes}",
                    _ => null,
                };
            }
        });
        builder.Services.AddOptions<Api.ApiAccessOptions>().BindConfiguration(Api.ApiAccessOptions.Section);
        // Problem details, like every answer, are written with the API's JSON rules (readable characters, no null fields).
        builder.Services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(options => Api.ApiJson.ConfigureHost(options.SerializerOptions));
        builder.Services.AddSingleton<Api.PipelineApi>();
        builder.Services.AddSingleton<Training.RunRegistration>();
        builder.Services.AddSingleton<Api.RunRegistrationApi>();
        builder.Services.AddSingleton<Api.GovernanceApi>();
        builder.Services.AddSingleton<Api.DatasetsApi>();
        builder.Services.TryAddSingleton<Datasets.DatasetStore>();
        builder.Services.TryAddSingleton<Datasets.QuarantineStore>();
        return builder;
    }
}
