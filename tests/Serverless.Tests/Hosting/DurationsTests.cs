using Serverless.Core.Hosting;

namespace Serverless.Tests.Hosting;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("1.00:00:00", "1 day")]
    [InlineData("06:30:00", "6 hours 30 minutes")]
    [InlineData("00:00:45", "45 seconds")]
    [InlineData("2.01:00:01", "2 days 1 hour 1 second")]
    [InlineData("00:00:00.250", "250 ms")]
    [InlineData("00:00:00", "0 seconds")]
    public void InWords_SaysTheDurationAsAPersonWould(string duration, string expected) =>
        Assert.Equal(expected, Durations.InWords(TimeSpan.Parse(duration, System.Globalization.CultureInfo.InvariantCulture)));
}
