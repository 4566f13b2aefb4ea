using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Converters;
using Serverless.Core.Storage;

namespace Serverless.Orchestrations;

/// <summary>
/// How everything Durable Task stores for a run is serialized (inputs, outputs, custom status, event data, activity
/// inputs and results): the pipeline's JSON options, camel-cased, on both hosts. The local host registers
/// <see cref="Converter"/> with its worker and client; the Functions app gives <see cref="Options"/> to the worker's serializer.
/// </summary>
public static class DurablePayloads
{
    public static JsonSerializerOptions Options { get; } = new(JsonBlobs.Options) { WriteIndented = false };

    public static DataConverter Converter { get; } = new JsonDataConverter(Options);
}
