using Serverless.Core.Serving;

namespace Serverless.Core.Registry;

/// <summary>
/// The one form of a model version the API shows: <c>v</c> and its number (<c>v1</c>, <c>v2</c>, ...). A bare number is
/// read as the version of that number wherever a version is given (a route, <c>?version=</c>, a promote body).
/// </summary>
public static class VersionNames
{
    public const string Rule = "v followed by a number, e.g. v2 (a bare 2 is read as v2)";

    /// <summary>The name of version number <paramref name="number"/>.</summary>
    public static string Format(int number) => "v" + number;

    /// <summary>The version <paramref name="value"/> names, in the <c>vN</c> form; null when it names none.</summary>
    public static string? Normalize(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (ModelSelector.IsVersion(value)) return value;
        var numbered = "v" + value;
        return ModelSelector.IsVersion(numbered) ? numbered : null;
    }

    /// <summary>
    /// A version given in a JSON body: text (<c>"v2"</c>, <c>"2"</c>) or a bare whole number (<c>2</c>), read as its text
    /// for <see cref="Normalize"/>; any other value is not a version.
    /// </summary>
    public sealed class JsonConverter : System.Text.Json.Serialization.JsonConverter<string>
    {
        public override string? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) => reader.TokenType switch
        {
            System.Text.Json.JsonTokenType.String => reader.GetString(),
            System.Text.Json.JsonTokenType.Number when reader.TryGetInt32(out var number) && number >= 0 => number.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new System.Text.Json.JsonException($"A version is text such as \"v2\" or a whole number such as 2; {Rule}."),
        };

        public override void Write(System.Text.Json.Utf8JsonWriter writer, string value, System.Text.Json.JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}
