using Serverless.Core.Workflows.Durable;

namespace Serverless.Tests.Workflows;

public sealed class WorkflowTimelineTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static DateTime At(double seconds) => T0.AddSeconds(seconds);

    private static IEnumerable<HistoryEvent> Activity(int id, string name, double start, double end) =>
    [
        new() { Type = HistoryEventType.TaskScheduled, TaskId = id, Name = name, Timestamp = At(start) },
        new() { Type = HistoryEventType.TaskCompleted, TaskId = id, Name = name, StartedAt = At(start), Timestamp = At(end) },
    ];

    [Fact]
    public void From_FanOutWithTwoSlots_WalksBackThroughWhatEachStepWaitedFor()
    {
        // plan 0-1; four candidates on two slots: a 1.1-5, b 1.1-3, c 3.1-4, d 4.1-8; register 8.2-9; ended at 9.5.
        var history = new List<HistoryEvent>();
        history.AddRange(Activity(0, "Plan", 0, 1));
        history.AddRange(Activity(1, "A", 1.1, 5));
        history.AddRange(Activity(2, "B", 1.1, 3));
        history.AddRange(Activity(3, "C", 3.1, 4));
        history.AddRange(Activity(4, "D", 4.1, 8));
        history.AddRange(Activity(5, "Register", 8.2, 9));
        history.Add(new HistoryEvent { Type = HistoryEventType.ExecutionCompleted, Timestamp = At(9.5) });

        var timeline = WorkflowTimeline.From(At(-0.5), history);

        Assert.Equal(["Plan", "B", "C", "D", "Register"], timeline.CriticalPath.Select(a => a.Name));
        Assert.Equal(10.0, timeline.Wall.TotalSeconds, 6);
        Assert.Equal(1 + 1.9 + 0.9 + 3.9 + 0.8, timeline.CriticalPathTime.TotalSeconds, 6);
        Assert.Equal(6, timeline.Activities.Count);
    }

    [Fact]
    public void From_NoActivities_IsAllOverhead()
    {
        var timeline = WorkflowTimeline.From(T0, [new HistoryEvent { Type = HistoryEventType.ExecutionCompleted, Timestamp = At(2) }]);

        Assert.Empty(timeline.CriticalPath);
        Assert.Equal(1.0, timeline.OverheadShare, 6);
    }
}
