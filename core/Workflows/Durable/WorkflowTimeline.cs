namespace Serverless.Core.Workflows.Durable;

/// <summary>One activity of a run: when it began to run and when it ended (from its result in the history).</summary>
public sealed record ActivitySpan(int TaskId, string Name, DateTime Start, DateTime End, bool Succeeded)
{
    public TimeSpan Duration => End - Start;
}

/// <summary>
/// Where the time of one orchestration run went: its wall time (instance created to execution ended), its activities,
/// and the critical path through them. The critical path is walked back from the activity that ended last, each step
/// to the activity that ended last before it began (what it waited for: a result it needed, or a free slot), so the
/// sum of the path's durations is the run's time spent in activities and the rest of the wall time is the engine's.
/// </summary>
public sealed record WorkflowTimeline(TimeSpan Wall, IReadOnlyList<ActivitySpan> Activities, IReadOnlyList<ActivitySpan> CriticalPath)
{
    public TimeSpan CriticalPathTime => TimeSpan.FromTicks(CriticalPath.Sum(a => a.Duration.Ticks));

    /// <summary>Wall time not spent in an activity on the critical path: scheduling, replay, storage round trips.</summary>
    public TimeSpan Overhead => Wall - CriticalPathTime;

    public double OverheadShare => Wall > TimeSpan.Zero ? Overhead / Wall : 0;

    public static WorkflowTimeline From(DateTime created, IReadOnlyList<HistoryEvent> history)
    {
        var names = history.Where(e => e.Type == HistoryEventType.TaskScheduled).ToDictionary(e => e.TaskId, e => e.Name ?? "");
        var spans = history
            .Where(e => e.Type is HistoryEventType.TaskCompleted or HistoryEventType.TaskFailed && e.StartedAt is not null)
            .Select(e => new ActivitySpan(e.TaskId, names.GetValueOrDefault(e.TaskId, e.Name ?? ""), e.StartedAt!.Value, e.Timestamp, e.Type == HistoryEventType.TaskCompleted))
            .OrderBy(s => s.Start)
            .ToList();
        var ended = history.LastOrDefault(e => HistoryEventType.IsTerminal(e.Type))?.Timestamp ?? history.LastOrDefault()?.Timestamp ?? created;

        var path = new List<ActivitySpan>();
        var current = spans.MaxBy(s => s.End);
        while (current is not null)
        {
            path.Add(current);
            var start = current.Start;
            current = spans.Where(s => s.End <= start).MaxBy(s => s.End);
        }
        path.Reverse();
        return new WorkflowTimeline(ended - created, spans, path);
    }
}
