namespace Serverless.Core.Monitoring;

/// <summary>Prediction logging and feedback settings, bound from <c>Pipeline:PredictionLog</c>.</summary>
public sealed class PredictionLogOptions
{
    public const string Section = "Pipeline:PredictionLog";

    /// <summary>Whether predictions are logged at all (sampled at <see cref="SampleRate"/>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Share of prediction requests logged (all rows of a sampled request are), 0 to 1; a model spec's
    /// <c>drift.sampleRate</c> overrides it for that model. The choice is made from the request id's hash, so the same
    /// request id is always sampled the same way.
    /// </summary>
    public double SampleRate { get; set; } = 1.0;

    /// <summary>Requests held between the request path and the writer; when it is full, requests are dropped and counted, never waited for.</summary>
    public int BufferCapacity { get; set; } = 50_000;

    /// <summary>How often buffered entries are appended to their blobs (they are appended sooner when a block fills up).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether the log's blobs are gzip-compressed (<c>.jsonl.gz</c>; every append whole gzip members, so a blob is one valid
    /// gzip file that <c>zcat</c> reads). Storage then receives and keeps about a sixth of the bytes (taxi rows with random
    /// request ids: 281 bytes a line, 45 compressed), for the writer's CPU to compress them; off, blobs are plain <c>.jsonl</c>.
    /// </summary>
    public bool Compress { get; set; } = true;

    /// <summary>The time window of one prediction log blob: whole minutes that divide a day (1, 5, 10, 15, 30, 60, ...).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How far back feedback looks for the predictions it labels, and the window of the live metrics in a model's view.</summary>
    public TimeSpan Lookback { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The most items one feedback request may hold; more is answered 413.</summary>
    public int MaxFeedbackItems { get; set; } = 1000;

    /// <summary>The window as whole minutes, checked.</summary>
    internal int WindowMinutes()
    {
        var minutes = Window.TotalMinutes;
        if (minutes < 1 || minutes > 1440 || minutes != Math.Floor(minutes) || 1440 % (int)minutes != 0)
        {
            throw new InvalidOperationException($"{Section}:{nameof(Window)} is {Window}; it must be whole minutes that divide a day (1, 5, 10, 15, 30, 60, ... 1440).");
        }
        return (int)minutes;
    }
}
