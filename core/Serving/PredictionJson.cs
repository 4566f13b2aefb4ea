using System.Buffers;
using System.Text.Json;
using Serverless.Core.Api;

namespace Serverless.Core.Serving;

/// <summary>
/// Writes a <see cref="PredictionResponse"/> as the UTF-8 JSON <see cref="ApiJson.Compact"/> makes of it, byte for byte:
/// property names by its naming policy, characters by its encoder, null fields left out, floats shortest round-trip, in
/// the records' declaration order. Written by hand because predict is the hottest route: the serializer's general path
/// takes a stack of frames (about 440 bytes) and an enumerator per list for every answer, and this takes neither. The
/// serializer stays the owner of the format: a test holds the two equal for every task's answer.
/// </summary>
public static class PredictionJson
{
    private static readonly JsonSerializerOptions Rules = ApiJson.Compact;
    private static readonly JsonEncodedText Model = Name(nameof(PredictionResponse.Model));
    private static readonly JsonEncodedText ModelVersion = Name(nameof(PredictionResponse.ModelVersion));
    private static readonly JsonEncodedText RequestId = Name(nameof(PredictionResponse.RequestId));
    private static readonly JsonEncodedText Predictions = Name(nameof(PredictionResponse.Predictions));
    private static readonly JsonEncodedText Label = Name(nameof(RowPrediction.Label));
    private static readonly JsonEncodedText Probability = Name(nameof(RowPrediction.Probability));
    private static readonly JsonEncodedText Probabilities = Name(nameof(RowPrediction.Probabilities));
    private static readonly JsonEncodedText Score = Name(nameof(RowPrediction.Score));
    private static readonly JsonEncodedText Imputed = Name(nameof(RowPrediction.Imputed));
    private static readonly JsonEncodedText UnseenCategories = Name(nameof(RowPrediction.UnseenCategories));

    /// <summary>A thread's buffer is kept for its next answer up to this size; a larger batch's is let go.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private static JsonEncodedText Name(string property) =>
        JsonEncodedText.Encode(Rules.PropertyNamingPolicy?.ConvertName(property) ?? property, Rules.Encoder);

    /// <summary>The answer's JSON, in an array of its exact length.</summary>
    public static byte[] Serialize(PredictionResponse response) => Render(response).ToArray();

    /// <summary>
    /// The answer's JSON in this thread's buffer, without a copy: valid until this thread renders the next answer, so it
    /// is copied (into the response) before anything else runs on the thread.
    /// </summary>
    public static ReadOnlySpan<byte> Render(PredictionResponse response)
    {
        // A large batch's buffer was used once and is let go; a single row's is kept for the thread's next answer.
        if (t_buffer is { Capacity: > KeptBufferBytes }) (t_buffer, t_writer) = (null, null);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Rules.Encoder, SkipValidation = true });
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        Write(writer, response);
        writer.Flush();
        return buffer.WrittenSpan;
    }

    private static void Write(Utf8JsonWriter writer, PredictionResponse response)
    {
        writer.WriteStartObject();
        WriteString(writer, Model, response.Model);
        WriteString(writer, ModelVersion, response.ModelVersion);
        WriteString(writer, RequestId, response.RequestId);
        if (response.Predictions is { } rows)
        {
            writer.WriteStartArray(Predictions);
            for (var r = 0; r < rows.Count; r++) WriteRow(writer, rows[r]);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    private static void WriteRow(Utf8JsonWriter writer, RowPrediction row)
    {
        writer.WriteStartObject();
        WriteString(writer, Label, row.Label);
        if (row.Probability is { } probability) writer.WriteNumber(Probability, probability);
        if (row.Probabilities is { } probabilities)
        {
            writer.WriteStartObject(Probabilities);
            // The scorer builds a Dictionary: its own enumerator, not a boxed one.
            if (probabilities is Dictionary<string, float> dictionary)
            {
                foreach (var (name, p) in dictionary) writer.WriteNumber(name, p);
            }
            else
            {
                foreach (var (name, p) in probabilities) writer.WriteNumber(name, p);
            }
            writer.WriteEndObject();
        }
        if (row.Score is { } score) writer.WriteNumber(Score, score);
        WriteStrings(writer, Imputed, row.Imputed);
        WriteStrings(writer, UnseenCategories, row.UnseenCategories);
        writer.WriteEndObject();
    }

    private static void WriteString(Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        if (value is not null) writer.WriteString(name, value);
    }

    private static void WriteStrings(Utf8JsonWriter writer, JsonEncodedText name, IReadOnlyList<string>? values)
    {
        if (values is null) return;
        writer.WriteStartArray(name);
        for (var i = 0; i < values.Count; i++) writer.WriteStringValue(values[i]);
        writer.WriteEndArray();
    }
}
