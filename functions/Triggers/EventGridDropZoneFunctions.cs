using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Orchestrations;

namespace Serverless.Functions.Triggers;

/// <summary>
/// The drop zone's blob trigger in its Event Grid form, for the Flex Consumption plan, which runs no polling blob
/// triggers. It does what <see cref="DropZoneFunctions.StartTrainingOnUpload"/> does, through the same
/// <see cref="DropZone"/>; each environment disables one of the two with <c>AzureWebJobs.&lt;name&gt;.Disabled</c>
/// (this one locally, since Azurite does not emulate Event Grid; the polling one on Azure).
/// </summary>
public sealed class EventGridDropZoneFunctions(DropZone dropZone)
{
    [Function(nameof(StartTrainingOnUploadEventGrid))]
    public Task StartTrainingOnUploadEventGrid(
        [BlobTrigger("incoming/{model}/{name}", Source = BlobTriggerSource.EventGrid, Connection = "AzureWebJobsStorage")] BlobClient blob,
        string model,
        string name,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        dropZone.HandleAsync($"{model}/{name}", client, context.CancellationToken);
}
