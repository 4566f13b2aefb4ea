using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Core.Monitoring;

/// <summary>
/// A JSON object's fields as a read-only dictionary, over the one element that holds them: a logged row's inputs read
/// back cost one small document, where a dictionary of elements costs a document per field and the dictionary besides
/// (a drift check keeps 100,000 of them: about 1 KB a row less). A field given twice answers its last value, as a
/// dictionary read from the same JSON would.
/// </summary>
public sealed class JsonObjectFields : IReadOnlyDictionary<string, JsonElement>
{
    private readonly JsonElement _object;

    public JsonObjectFields(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new JsonException($"Expected a JSON object, not {value.ValueKind}.");
        _object = value;
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out JsonElement value)
    {
        var found = false;
        value = default;
        foreach (var property in _object.EnumerateObject())
        {
            if (!property.NameEquals(key)) continue;
            value = property.Value;
            found = true;
        }
        return found;
    }

    public JsonElement this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public IEnumerable<string> Keys => this.Select(p => p.Key);

    public IEnumerable<JsonElement> Values => this.Select(p => p.Value);

    public int Count
    {
        get
        {
            var count = 0;
            using var fields = GetEnumerator();
            while (fields.MoveNext()) count++;
            return count;
        }
    }

    /// <summary>Each field once, with its last value, in the order of first appearance.</summary>
    public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in _object.EnumerateObject())
        {
            if (seen.Add(property.Name)) yield return new(property.Name, this[property.Name]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Reads the object as one element; writes its fields as they are.</summary>
    public sealed class Converter : JsonConverter<IReadOnlyDictionary<string, JsonElement>>
    {
        public override IReadOnlyDictionary<string, JsonElement> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            new JsonObjectFields(JsonElement.ParseValue(ref reader));

        public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, JsonElement> value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            foreach (var (name, field) in value)
            {
                writer.WritePropertyName(name);
                field.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
    }
}
