using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Orchestrations;

namespace Serverless.Functions.Triggers;

/// <summary>The blob trigger on the drop zone: ingests the file and starts training through the shared <see cref="DropZone"/>.</summary>
public sealed class DropZoneFunctions(DropZone dropZone)
{
    [Function(nameof(StartTrainingOnUpload))]
    public Task StartTrainingOnUpload(
        [BlobTrigger("incoming/{model}/{name}", Connection = "AzureWebJobsStorage")] BlobClient blob,
        string model,
        string name,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        dropZone.HandleAsync($"{model}/{name}", client, context.CancellationToken);
}
