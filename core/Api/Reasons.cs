using System.Text.Json;

namespace Serverless.Core.Api;

/// <summary>
/// The reason a person gives for a change (a promotion, rollback, archive, approval, rejection, terminate, training
/// request, spec or run registered by hand). It is kept with the change: in the alias history, on the version's status
/// and in the audit log, whose records hold a bounded text. So it is checked before anything changes, and a change is
/// never made that its audit record could not keep.
/// </summary>
public static class Reasons
{
    /// <summary>The longest reason taken, in characters.</summary>
    public const int MaxLength = 2000;

    /// <summary>What a reason may be, as a 400 states it.</summary>
    public static readonly string Rule = $"words, at most {MaxLength:N0} characters";

    /// <summary>What a 400 says of a reason given blank: the records would keep an empty reason as if one were given.</summary>
    public const string Blank = "blank: write why, or leave the reason out";

    /// <summary>
    /// <paramref name="reason"/>, when it is not given, or is words within <see cref="MaxLength"/>; a 400 naming
    /// <paramref name="field"/> otherwise.
    /// </summary>
    /// <exception cref="BadRequestException">The reason is blank or longer.</exception>
    public static string? Check(string? reason, string field = "reason")
    {
        if (reason is null) return null;
        if (string.IsNullOrWhiteSpace(reason)) throw new BadRequestException($"'{field}' is {Blank}.", ApiResults.Field(field, Blank));
        if (reason.Length > MaxLength)
        {
            throw new BadRequestException($"'{field}' is {reason.Length:N0} characters long; a reason is {Rule}. Shorten it.", ApiResults.Field(field, Rule));
        }
        return reason;
    }

    /// <summary>A reason in a JSON body: text of at most <see cref="MaxLength"/> characters (a 400 naming the field otherwise).</summary>
    public sealed class JsonConverter : System.Text.Json.Serialization.JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String) throw new JsonException("A reason is text, in words.");
            var reason = reader.GetString()!;
            if (string.IsNullOrWhiteSpace(reason)) throw new JsonException($"The reason is {Blank}.");
            if (reason.Length > MaxLength) throw new JsonException($"A reason is {Rule}; this one is {reason.Length:N0}. Shorten it.");
            return reason;
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}
