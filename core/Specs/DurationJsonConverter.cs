using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Core.Specs;

/// <summary>
/// Reads a duration as a spec writes it: .NET's time span (<c>"3.00:00:00"</c>, days first) or hours, minutes and seconds
/// with as many hours as it takes (<c>"72:00:00"</c>), which .NET's own format refuses past 23. Writes .NET's form.
/// </summary>
public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("a duration is written as text");
        return Parse(reader.GetString()!) ?? throw new JsonException("not a duration");
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString("c", CultureInfo.InvariantCulture));

    /// <summary>The duration <paramref name="text"/> writes, or null when it writes none.</summary>
    public static TimeSpan? Parse(string text)
    {
        text = text.Trim();
        if (TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out var span)) return span;
        // hours:minutes[:seconds[.fraction]], the hours unbounded: "72:00:00", "72:00" (as .NET reads "12:30" as hours and minutes).
        var negative = text.StartsWith('-');
        var parts = (negative ? text[1..] : text).Split(':');
        if (parts.Length == 2) parts = [.. parts, "00"];
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length != 2) return null;
        if (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var hours) ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) || minutes > 59 ||
            // The seconds and their fraction as .NET reads them at the end of its own format (two digits, below 60).
            !TimeSpan.TryParseExact("00:00:" + parts[2], "c", CultureInfo.InvariantCulture, out var seconds))
        {
            return null;
        }
        if (hours > (long)TimeSpan.MaxValue.TotalHours - 1) return null;
        var total = TimeSpan.FromHours(hours) + TimeSpan.FromMinutes(minutes) + seconds;
        return negative ? -total : total;
    }
}
