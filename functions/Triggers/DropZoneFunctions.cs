using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Orchestrations;

namespace Serverless.Functions.Triggers;

/// <summary>
/// The blob trigger on the drop zone, in its two forms: each ingests the file and starts training through the shared
/// <see cref="DropZone"/>. The polling form runs under <c>func start</c> against Azurite (which does not emulate Event
/// Grid); the Event Grid form runs on the Flex Consumption plan (which runs no polling blob triggers). Each environment
/// disables one of them with <c>AzureWebJobs.&lt;name&gt;.Disabled</c>.
/// </summary>
public sealed class DropZoneFunctions(DropZone dropZone)
{
    private const string Path = "incoming/{model}/{name}";

    [Function(nameof(StartTrainingOnUpload))]
    public Task StartTrainingOnUpload(
        [BlobTrigger(Path, Connection = "AzureWebJobsStorage")] BlobClient blob,
        string model,
        string name,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        dropZone.HandleAsync($"{model}/{name}", client, context.CancellationToken);

    [Function(nameof(StartTrainingOnUploadEventGrid))]
    public Task StartTrainingOnUploadEventGrid(
        [BlobTrigger(Path, Source = BlobTriggerSource.EventGrid, Connection = "AzureWebJobsStorage")] BlobClient blob,
        string model,
        string name,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        StartTrainingOnUpload(blob, model, name, client, context);
}
