using Serverless.Core.Api;

namespace Serverless.LocalHost;

/// <summary>The local host's routes of a model's uploads: dataset versions, duplicates and quarantined files.</summary>
public static class DatasetRoutes
{
    public static IEndpointRouteBuilder MapDatasetRoutes(this IEndpointRouteBuilder api)
    {
        api.MapGet(ApiRoutes.Datasets, (string model, HttpRequest r, DatasetsApi h, CancellationToken ct) => h.ListAsync(model, r, ct))
            .Describe<DatasetList>("ListDatasets", "What became of every upload: dataset versions, duplicate uploads, quarantined files with their reasons", 200, 404);
        return api;
    }
}
