using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Serverless.Core.Registry;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Core.Api;

/// <summary>
/// How the HTTP API writes JSON, on both hosts: camel-cased like the stored documents, but for a person reading it.
/// <list type="bullet">
/// <item>Characters are written as themselves (<c>+</c>, <c>'</c>, <c>`</c>, non-ASCII letters), not as <c>\u002B</c>-style
/// escapes: answers are <c>application/json</c>, never inlined into HTML, so the default encoder's HTML-safety buys nothing.</item>
/// <item>Null fields are left out.</item>
/// <item>Doubles (metrics, durations, statistics) are rounded to <see cref="SignificantDigits"/> significant digits, never
/// fewer than their integer digits, then written shortest round-trip; stored values keep full precision. Floats
/// (prediction scores and probabilities) are written shortest round-trip, at most 9 digits.</item>
/// <item>Stored records are presented in the API's words: a version's trainer and parameters sit beside each other as
/// <c>trainer</c> and <c>parameters</c> (not a nested <c>candidate</c>), and an experiment run's metrics are named
/// <c>validationMetrics</c>, which is what they are.</item>
/// </list>
/// <see cref="Configure"/> applies the same rules (bar the rounding) to the host's own JSON options, which write problem
/// details and describe the answers' schemas in the OpenAPI document.
/// </summary>
public static class ApiJson
{
    public const int SignificantDigits = 6;

    /// <summary>The options every answer of the API is written with.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions(indented: true);

    /// <summary>The same rules on one line, for the hottest route (predict), where indentation only costs bytes and time.</summary>
    public static JsonSerializerOptions Compact { get; } = CreateOptions(indented: false);

    private static JsonSerializerOptions CreateOptions(bool indented)
    {
        var options = new JsonSerializerOptions(JsonBlobs.Options) { WriteIndented = indented };
        Configure(options);
        options.Converters.Add(new RoundedDoubleConverter());
        options.Converters.Add(new RoundedElementConverter());
        options.Converters.Add(new RoundedNodeConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Readable characters, no null fields, camel-cased enums and the API's names of stored records.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        if (!options.Converters.Any(c => c is JsonStringEnumConverter)) options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(PresentStoredRecords);
    }

    /// <summary>
    /// The host's own JSON options (problem details, and the schemas of the OpenAPI document): <see cref="Configure"/>,
    /// and numbers are numbers (the web defaults would also describe them as strings).
    /// </summary>
    public static void ConfigureHost(JsonSerializerOptions options)
    {
        Configure(options);
        options.NumberHandling = JsonNumberHandling.Strict;
    }

    /// <summary>Rounds a double as answers show it (see <see cref="ApiJson"/>).</summary>
    public static double Round(double value)
    {
        if (!double.IsFinite(value) || value == 0) return value;
        if (Math.Abs(value) >= Math.Pow(10, SignificantDigits)) return Math.Round(value);
        return double.Parse(value.ToString("G" + SignificantDigits, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>The name an experiment run's metrics have in answers: they are measured on validation (or its folds).</summary>
    public const string RunMetricsName = "validationMetrics";

    private static void PresentStoredRecords(JsonTypeInfo type)
    {
        if (type.Type == typeof(ModelManifest))
        {
            var at = type.Properties.ToList().FindIndex(p => p.Name == "candidate");
            if (at < 0) return;
            type.Properties.RemoveAt(at);
            var trainer = type.CreateJsonPropertyInfo(typeof(string), "trainer");
            trainer.Get = m => ((ModelManifest)m).Candidate.Trainer;
            var parameters = type.CreateJsonPropertyInfo(typeof(IReadOnlyDictionary<string, double>), "parameters");
            parameters.Get = m => ((ModelManifest)m).Candidate.Parameters;
            type.Properties.Insert(at, parameters);
            type.Properties.Insert(at, trainer);
        }
        else if (type.Type == typeof(ExperimentRun))
        {
            foreach (var property in type.Properties)
            {
                if (property.Name == "metrics") property.Name = RunMetricsName;
            }
        }
    }

    private static void WriteRounded(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(Round(value));
        }
        else
        {
            // As the stored documents write them (AllowNamedFloatingPointLiterals): "NaN", "Infinity", "-Infinity".
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Writes JSON held as an element (audit details, orchestration payloads) as answers are written: null fields left out, fractions rounded.</summary>
    private static void WriteRounded(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.Null) continue;
                    writer.WritePropertyName(property.Name);
                    WriteRounded(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray()) WriteRounded(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number when !element.TryGetInt64(out _) && element.TryGetDouble(out var number):
                WriteRounded(writer, number);
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private sealed class RoundedDoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String ? double.Parse(reader.GetString()!, CultureInfo.InvariantCulture) : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => WriteRounded(writer, value);
    }

    private sealed class RoundedElementConverter : JsonConverter<JsonElement>
    {
        public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonElement.ParseValue(ref reader);

        public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) => WriteRounded(writer, value);
    }

    private sealed class RoundedNodeConverter : JsonConverter<JsonNode>
    {
        public override JsonNode? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonNode.Parse(ref reader);

        public override void Write(Utf8JsonWriter writer, JsonNode value, JsonSerializerOptions options) =>
            WriteRounded(writer, JsonSerializer.SerializeToElement(value, JsonBlobs.Options));
    }
}
