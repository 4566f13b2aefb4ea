using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>The start-up warm-up runs every default trainer through the real training code paths, and can be turned off.</summary>
public sealed class TrainingWarmupTests
{
    [Fact]
    public async Task WarmUp_TrainsEveryDefaultTrainer_WithoutAWarning()
    {
        var logs = new ListLogger();
        using var warmup = new TrainingWarmup(Options.Create(new TrainingOptions()), logs);

        await warmup.StartAsync(CancellationToken.None);
        await warmup.ExecuteTask!.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Contains(logs.Entries, e => e.Message.StartsWith("Training code paths warmed up", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WarmUp_Off_DoesNothing()
    {
        var logs = new ListLogger();
        using var warmup = new TrainingWarmup(Options.Create(new TrainingOptions { WarmUp = false }), logs);

        await warmup.StartAsync(CancellationToken.None);
        await warmup.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Empty(logs.Entries);
    }

    private sealed class ListLogger : ILogger<TrainingWarmup>
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
