using System.Buffers;
using System.Text.Json;
using Serverless.Core.Serving;

namespace Serverless.Core.Monitoring;

/// <summary>
/// Writes <see cref="PredictionLogEntry"/> lines straight from a row's request bytes, with the names and formats
/// <see cref="JsonLines.Options"/> gives the record (a test checks the two agree byte for byte). Written by hand because
/// the serializer would need each row parsed into a <see cref="JsonDocument"/> and a dictionary first: at full sampling
/// that costs the request path's host as much CPU as scoring. Sensitive fields are skipped as they are read.
/// </summary>
internal static class PredictionLogEncoder
{
    internal static readonly JsonEncodedText RequestIdName = Name(nameof(PredictionLogEntry.RequestId));
    internal static readonly JsonEncodedText RowName = Name(nameof(PredictionLogEntry.Row));
    internal static readonly JsonEncodedText TimeName = Name(nameof(PredictionLogEntry.Time));
    internal static readonly JsonEncodedText ModelVersionName = Name(nameof(PredictionLogEntry.ModelVersion));
    internal static readonly JsonEncodedText InputsName = Name(nameof(PredictionLogEntry.Inputs));
    internal static readonly JsonEncodedText OutputName = Name(nameof(PredictionLogEntry.Output));
    internal static readonly JsonEncodedText ShadowVersionName = Name(nameof(PredictionLogEntry.ShadowVersion));
    private static readonly JsonEncodedText ShadowOutputName = Name(nameof(PredictionLogEntry.ShadowOutput));
    internal static readonly JsonEncodedText LabelName = Name(nameof(RowPrediction.Label));
    private static readonly JsonEncodedText ProbabilityName = Name(nameof(RowPrediction.Probability));
    private static readonly JsonEncodedText ProbabilitiesName = Name(nameof(RowPrediction.Probabilities));
    internal static readonly JsonEncodedText ScoreName = Name(nameof(RowPrediction.Score));
    private static readonly JsonEncodedText ImputedName = Name(nameof(RowPrediction.Imputed));

    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = JsonLines.Options.Encoder, Indented = false, SkipValidation = false };

    private static JsonEncodedText Name(string property) => JsonEncodedText.Encode(JsonLines.Options.PropertyNamingPolicy?.ConvertName(property) ?? property);

    /// <summary>Appends one entry and its line break to <paramref name="buffer"/>; <paramref name="writer"/> is reset onto it.</summary>
    public static void WriteLine(Utf8JsonWriter writer, IBufferWriter<byte> buffer, string requestId, int row, DateTimeOffset time, string version,
        ReadOnlySpan<byte> inputs, IReadOnlySet<string> sensitive, RowPrediction output, string? shadowVersion, RowPrediction? shadowOutput)
    {
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString(RequestIdName, requestId);
        writer.WriteNumber(RowName, row);
        writer.WriteString(TimeName, time);
        writer.WriteString(ModelVersionName, version);
        writer.WritePropertyName(InputsName);
        WriteInputs(writer, inputs, sensitive);
        writer.WritePropertyName(OutputName);
        WriteOutput(writer, output);
        if (shadowVersion is not null) writer.WriteString(ShadowVersionName, shadowVersion);
        if (shadowOutput is not null)
        {
            writer.WritePropertyName(ShadowOutputName);
            WriteOutput(writer, shadowOutput);
        }
        writer.WriteEndObject();
        writer.Flush();
        buffer.Write("\n"u8);
    }

    /// <summary>
    /// Bytes that a row written out again could differ in: whitespace and control characters (minified away), and what
    /// the writer's encoder (<see cref="System.Text.Encodings.Web.JavaScriptEncoder.Default"/>) escapes (the backslash of
    /// an escape, HTML-sensitive characters, '+', '`', anything not ASCII).
    /// </summary>
    private static readonly SearchValues<byte> Rewritten = SearchValues.Create([.. Enumerable.Range(0, 256).Select(b => (byte)b)
        .Where(b => b is <= 0x20 or >= 0x7F || "\\<>&'+`".Contains((char)b))]);

    /// <summary>
    /// The row's fields as it sent them, minified, without the sensitive ones. A row with nothing sensitive whose bytes
    /// would all be written as they are (<see cref="Rewritten"/>: most rows, as clients send minified JSON) is copied
    /// whole, without reading it token by token.
    /// </summary>
    private static void WriteInputs(Utf8JsonWriter writer, ReadOnlySpan<byte> row, IReadOnlySet<string> sensitive)
    {
        if (sensitive.Count == 0 && !row.ContainsAny(Rewritten))
        {
            writer.WriteRawValue(row, skipInputValidation: true);
            return;
        }
        var reader = new Utf8JsonReader(row);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new InvalidDataException("A logged row must be a JSON object.");
        writer.WriteStartObject();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (IsSensitive(ref reader, sensitive))
            {
                reader.Read();
                reader.Skip();
                continue;
            }
            if (reader.ValueIsEscaped) writer.WritePropertyName(reader.GetString()!);
            else writer.WritePropertyName(reader.ValueSpan);
            reader.Read();
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    if (reader.ValueIsEscaped) writer.WriteStringValue(reader.GetString());
                    else writer.WriteStringValue(reader.ValueSpan);
                    break;
                case JsonTokenType.Number:
                    writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                    break;
                case JsonTokenType.True or JsonTokenType.False:
                    writer.WriteBooleanValue(reader.TokenType == JsonTokenType.True);
                    break;
                case JsonTokenType.Null:
                    writer.WriteNullValue();
                    break;
                default:
                    // Objects and arrays are answered 400 and never logged; copied as they are all the same.
                    using (var value = JsonDocument.ParseValue(ref reader)) value.RootElement.WriteTo(writer);
                    break;
            }
        }
        writer.WriteEndObject();
    }

    private static bool IsSensitive(ref Utf8JsonReader reader, IReadOnlySet<string> sensitive)
    {
        if (sensitive.Count == 0) return false;
        foreach (var name in sensitive)
        {
            if (reader.ValueTextEquals(name)) return true;
        }
        return false;
    }

    private static void WriteOutput(Utf8JsonWriter writer, RowPrediction output)
    {
        writer.WriteStartObject();
        if (output.Label is not null) writer.WriteString(LabelName, output.Label);
        if (output.Probability is { } probability)
        {
            writer.WritePropertyName(ProbabilityName);
            WriteSingle(writer, probability);
        }
        if (output.Probabilities is { } probabilities)
        {
            writer.WriteStartObject(ProbabilitiesName);
            foreach (var (name, value) in probabilities)
            {
                writer.WritePropertyName(name);
                WriteSingle(writer, value);
            }
            writer.WriteEndObject();
        }
        if (output.Score is { } score)
        {
            writer.WritePropertyName(ScoreName);
            WriteSingle(writer, score);
        }
        if (output.Imputed is { } imputed)
        {
            writer.WriteStartArray(ImputedName);
            foreach (var field in imputed) writer.WriteStringValue(field);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    /// <summary>A float as the serializer writes it under <see cref="JsonNumberHandling.AllowNamedFloatingPointLiterals"/>.</summary>
    private static void WriteSingle(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteStringValue(float.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }
}
