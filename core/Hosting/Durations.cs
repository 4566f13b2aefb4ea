using System.Globalization;

namespace Serverless.Core.Hosting;

/// <summary>A duration as a message to a person says it: "1 day", "6 hours 30 minutes", "45 seconds", not 1.00:00:00.</summary>
public static class Durations
{
    public static string InWords(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero) return "0 seconds";
        var parts = new List<string>(4);
        void Add(int count, string unit)
        {
            if (count > 0) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{count} {unit}{(count == 1 ? "" : "s")}"));
        }
        Add(duration.Days, "day");
        Add(duration.Hours, "hour");
        Add(duration.Minutes, "minute");
        Add(duration.Seconds, "second");
        if (parts.Count == 0) return string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0.###} ms");
        return string.Join(' ', parts);
    }
}
