using Serverless.Core.Api;
using Serverless.Core.Storage;

namespace Serverless.Core.Specs;

/// <summary>The model spec of each model, kept where users drop it: <c>incoming/{model}/model.json</c>.</summary>
public sealed class ModelSpecStore(PipelineStorage storage)
{
    public const string FileName = "model.json";

    public static string BlobName(string model) => $"{model}/{FileName}";

    /// <summary>The spec, or an empty one (everything inferred) when the model has none.</summary>
    public async Task<ModelSpec> GetAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        try
        {
            var read = await JsonBlobs.TryReadAsync<ModelSpec>(storage.Incoming.GetBlobClient(BlobName(model)), ct).ConfigureAwait(false);
            return read?.Value ?? new ModelSpec();
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new BadRequestException($"The spec of model '{model}' ({BlobName(model)}) is not valid JSON: {e.Message}");
        }
    }

    public async Task SetAsync(string model, ModelSpec spec, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        await JsonBlobs.WriteAsync(storage.Incoming.GetBlobClient(BlobName(model)), spec, ct).ConfigureAwait(false);
    }
}
