using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Serverless.Core.Storage;

namespace Serverless.Core.Specs;

/// <summary>
/// Reads a model spec from JSON and checks its shape against the spec's own contract (the serializer's metadata of
/// <see cref="ModelSpec"/>), so that every unknown key (a misspelt <c>lable</c>), every value of the wrong kind and every
/// missing required field is named at once, with the valid keys or values, and in words rather than .NET type names.
/// The serializer alone stops at the first problem and names types.
/// </summary>
public static class SpecReader
{
    /// <summary>The pipeline's JSON options, with the metadata resolver that <see cref="JsonSerializerOptions.GetTypeInfo"/> needs.</summary>
    private static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonBlobs.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>
    /// The spec as far as it can be read (null when a value is of the wrong kind), with <paramref name="problems"/> naming
    /// what is wrong with its shape.
    /// </summary>
    public static ModelSpec? Read(ReadOnlyMemory<byte> json, SpecProblems problems)
    {
        json = Api.JsonText.WithoutByteOrderMark(json);
        if (Api.JsonText.NotUtf8At(json.Span) is { } notUtf8)
        {
            problems.Add("spec", $"not UTF-8 text ({notUtf8}); save it as UTF-8");
            return null;
        }
        if (json.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            problems.Add("spec", "the spec is empty; write a JSON object, {} for a spec that infers everything");
            return null;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            problems.Add("spec", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
            return null;
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                problems.Add("spec", "must be a JSON object");
                return null;
            }
            var wrong = new List<string>();
            Check(document.RootElement, typeof(ModelSpec), "", problems, wrong);
            // Unknown keys alone leave a readable spec (they are skipped), whose values are then checked too. Values of the
            // wrong kind are left out of what is read, so that the rest is checked as well and one answer names every
            // problem; a spec that cannot be read even so (a required field of the wrong kind) is checked for its shape only.
            try
            {
                return wrong.Count == 0 ? document.RootElement.Deserialize<ModelSpec>(Options) : Without(document.RootElement, wrong).Deserialize<ModelSpec>(Options);
            }
            // ArgumentException: a key given twice, which a JsonNode cannot hold.
            catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The problems of a JSON object read as <paramref name="type"/> (a request body), by field, in the same words as a
    /// spec's: every unknown key with the valid ones, every value of the wrong kind; the object itself is <c>body</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> ShapeProblems(JsonElement value, Type type)
    {
        var problems = new SpecProblems();
        Check(value, type, "", problems, []);
        return problems.ToDictionary().ToDictionary(p => p.Key == Field("") ? "body" : p.Key, p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>A copy of the spec without the values at <paramref name="paths"/> (as <see cref="Check"/> names them).</summary>
    private static JsonNode Without(JsonElement root, IReadOnlyList<string> paths)
    {
        var copy = JsonNode.Parse(root.GetRawText())!;
        // The deepest and the last items first, so that removing one leaves the paths of the others as they were.
        foreach (var steps in paths.Select(p => Steps(p).ToList()).OrderByDescending(s => s.Count).ThenByDescending(s => s[^1].Index ?? -1))
        {
            JsonNode? parent = copy;
            foreach (var (key, index) in steps.SkipLast(1)) parent = Child(parent, key, index);
            var (lastKey, lastIndex) = steps[^1];
            if (parent is JsonObject obj && lastKey is not null) obj.Remove(FindKey(obj, lastKey));
            else if (parent is JsonArray array && lastIndex is { } i && i < array.Count) array.RemoveAt(i);
        }
        return copy;
    }

    private static JsonNode? Child(JsonNode? node, string? key, int? index) => index is { } i
        ? node is JsonArray array && i < array.Count ? array[i] : null
        : node is JsonObject obj && key is not null ? obj[FindKey(obj, key)] : null;

    private static string FindKey(JsonObject obj, string key) => obj.Select(p => p.Key).FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)) ?? key;

    private static IEnumerable<(string? Key, int? Index)> Steps(string path)
    {
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '[')
            {
                // A key of the user's may hold brackets: anything that is not "[n]" ends the walk (that value stays, and
                // the spec is then checked for its shape only).
                var end = path.IndexOf(']', i);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
                {
                    yield return (path[i..], null);
                    yield break;
                }
                yield return (null, index);
                i = end + 1;
                if (i < path.Length && path[i] == '.') i++;
                continue;
            }
            var next = path.IndexOfAny(['.', '['], i);
            if (next < 0) next = path.Length;
            yield return (path[i..next], null);
            i = next < path.Length && path[next] == '.' ? next + 1 : next;
        }
    }

    private static void Check(JsonElement value, Type type, string path, SpecProblems problems, List<string> wrong)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (value.ValueKind == JsonValueKind.Null)
        {
            if (underlying is null && type.IsValueType) Wrong(path, $"must be {Describe(type)}, not null");
            return;
        }
        type = underlying ?? type;
        if (Dictionary(type) is { } valueType)
        {
            if (value.ValueKind != JsonValueKind.Object) { Wrong(path, $"must be {Describe(type)}"); return; }
            foreach (var property in value.EnumerateObject()) Check(property.Value, valueType, Join(path, property.Name), problems, wrong);
            return;
        }
        if (List(type) is { } itemType)
        {
            if (value.ValueKind != JsonValueKind.Array) { Wrong(path, $"must be {Describe(type)}"); return; }
            var i = 0;
            foreach (var item in value.EnumerateArray()) Check(item, itemType, $"{path}[{i++}]", problems, wrong);
            return;
        }
        if (IsRecord(type))
        {
            if (value.ValueKind != JsonValueKind.Object) { Wrong(path, $"must be {Describe(type)}"); return; }
            var info = Options.GetTypeInfo(type);
            var keys = info.Properties.Select(p => p.Name).ToList();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in value.EnumerateObject())
            {
                var known = info.Properties.FirstOrDefault(p => p.Name.Equals(property.Name, StringComparison.OrdinalIgnoreCase));
                if (known is null)
                {
                    problems.Add(Join(path, property.Name), $"unknown key; {NameSuggestions.Hint(property.Name, keys, "the keys here are")}");
                    continue;
                }
                if (!seen.Add(known.Name))
                {
                    // JSON's readers keep the last of a key given twice, which may not be the one meant: neither counts.
                    Wrong(Join(path, known.Name), "given twice; give it once");
                    continue;
                }
                if (known.CustomConverter is { } converter)
                {
                    // A field with a reader of its own (a version given as text or a number) is what that reader takes.
                    if (ConverterProblem(converter, property.Value, known.PropertyType) is { } problem) Wrong(Join(path, known.Name), problem);
                    continue;
                }
                Check(property.Value, known.PropertyType, Join(path, known.Name), problems, wrong);
            }
            foreach (var required in info.Properties.Where(p => p.IsRequired && !seen.Contains(p.Name)))
            {
                problems.Add(Join(path, required.Name), "required");
            }
            return;
        }
        // The serializer takes an enum's number too ("task": 5), which names nothing a spec can mean.
        if (type.IsEnum && value.ValueKind != JsonValueKind.String)
        {
            Wrong(path, $"must be {Describe(type)}");
            return;
        }
        try
        {
            value.Deserialize(type, Options);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            var whole = Nullable.GetUnderlyingType(type) ?? type;
            // A misspelt value of a list of names ("regresion") gets the name it was likely meant to be.
            var meant = whole.IsEnum && value.GetString() is { } given && NameSuggestions.Closest(given, EnumNames(whole)) is { } near ? $"; did you mean '{near}'?" : "";
            // A whole number the field cannot take is a whole number still: say what is wrong with it, beyond the field's own rule.
            Wrong(path, whole == typeof(int) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var n) && Math.Floor(n) == n
                ? n > int.MaxValue ? $"must be at most {int.MaxValue}"
                : n < int.MinValue ? $"must be at least {int.MinValue}"
                : $"must be a whole number written without an exponent or decimals ({n.ToString("0", System.Globalization.CultureInfo.InvariantCulture)}, not {value.GetRawText()})"
                : $"must be {Describe(type)}{meant}");
        }

        void Wrong(string at, string problem)
        {
            problems.Add(Field(at), problem);
            if (at.Length > 0) wrong.Add(at);
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, JsonSerializerOptions> ConverterOptions = new();

    /// <summary>Null when <paramref name="converter"/> reads <paramref name="value"/>; else its own words for why not.</summary>
    private static string? ConverterProblem(JsonConverter converter, JsonElement value, Type type)
    {
        var options = ConverterOptions.GetOrAdd(converter.GetType(), _ => new JsonSerializerOptions(Options) { Converters = { converter } });
        try
        {
            value.Deserialize(type, options);
            return null;
        }
        catch (JsonException e)
        {
            return e.Message;
        }
    }

    /// <summary>What a value of a type looks like, in words a user of the spec knows.</summary>
    public static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return $"one of {string.Join(", ", EnumNames(type))}";
        if (type == typeof(string)) return "text";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int) || type == typeof(long)) return "a whole number";
        if (type == typeof(double) || type == typeof(float)) return "a number";
        if (type == typeof(TimeSpan)) return "a duration such as \"72:00:00\" (hours:minutes:seconds) or \"3.00:00:00\" (days)";
        if (Dictionary(type) is { } valueType) return $"an object whose values are {Describe(valueType)}";
        if (List(type) is { } itemType) return $"a list of {Plural(Describe(itemType))}";
        if (IsRecord(type)) return $"an object with the keys {string.Join(", ", Options.GetTypeInfo(type).Properties.Select(p => p.Name))}";
        return "a JSON value";
    }

    /// <summary>The names an enum is written with in a spec (camel case, as the serializer writes them).</summary>
    public static IReadOnlyList<string> EnumNames(Type type) =>
        [.. Enum.GetNames(type).Select(n => JsonNamingPolicy.CamelCase.ConvertName(n))];

    /// <summary>What a list's items look like, in the plural: "a list of objects with the keys name, grid".</summary>
    private static string Plural(string description) => description switch
    {
        "text" => "texts",
        "a number" => "numbers",
        "a whole number" => "whole numbers",
        "true or false" => "values true or false",
        "a JSON value" => "JSON values",
        _ when description.StartsWith("one of ", StringComparison.Ordinal) => "names, each " + description,
        _ when description.StartsWith("a list of ", StringComparison.Ordinal) => "lists of " + description["a list of ".Length..],
        _ when description.StartsWith("an object", StringComparison.Ordinal) => "objects" + description["an object".Length..],
        _ when description.StartsWith("a duration", StringComparison.Ordinal) => "durations" + description["a duration".Length..],
        _ => description,
    };

    private static Type? Dictionary(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GetGenericArguments()[0] == typeof(string)
            ? type.GetGenericArguments()[1] : null;

    private static Type? List(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0] : null;

    private static bool IsRecord(Type type) =>
        type.IsClass && type != typeof(string) && Options.GetTypeInfo(type).Kind == JsonTypeInfoKind.Object;

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Field(string path) => path.Length == 0 ? "spec" : path;
}
