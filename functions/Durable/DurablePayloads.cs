using System.Text.Json;
using Azure.Core.Serialization;
using Serverless.Core.Storage;

namespace Serverless.Functions.Durable;

/// <summary>
/// The serializer of everything Durable Functions stores for a run (inputs, outputs, custom status, event data, activity
/// inputs and results): the local engine's JSON options, so an instance reads back in the same shape on both hosts.
/// With the worker's default serializer names would be PascalCase, and the shared handlers, which read
/// <c>customStatus.stage</c> and <c>input.model</c>, would not find them.
/// </summary>
public static class DurablePayloads
{
    public static ObjectSerializer Serializer { get; } =
        new JsonObjectSerializer(new JsonSerializerOptions(JsonBlobs.Options) { WriteIndented = false });
}
