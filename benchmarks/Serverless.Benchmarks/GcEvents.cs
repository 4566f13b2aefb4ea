using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Serverless.Benchmarks;

/// <summary>
/// The runtime's own account of this process's garbage collections of generation 1 and 2 (its GCStart events, read in
/// process by an <see cref="EventListener"/>): each one's generation, kind (blocking, background, or a foreground one
/// during a background one) and the reason the runtime gives for it. A round whose tail is far off the others can then be
/// told apart: a long blocking collection of the host, or the machine.
/// </summary>
internal sealed class GcEvents : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    /// <summary>The runtime's GC reasons (its GCReason values), by number.</summary>
    private static readonly string[] Reasons =
    [
        "AllocSmall", "Induced", "LowMemory", "Empty", "AllocLarge", "OutOfSpaceSOH", "OutOfSpaceLOH", "InducedNotForced",
        "Internal", "InducedLowMemory", "InducedCompacting", "LowMemoryHost", "PMFullGC", "LowMemoryHostBlocking",
    ];

    private static readonly string[] Kinds = ["blocking", "background", "foreground"];

    private readonly ConcurrentQueue<(int Depth, string Kind, string Reason)> _collections = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == RuntimeSource) EnableEvents(source, EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCStart", StringComparison.Ordinal) != true || e.PayloadNames is null) return;
        uint Field(string name) => e.PayloadNames.IndexOf(name) is var i and >= 0 ? Convert.ToUInt32(e.Payload![i]) : 0;
        var depth = (int)Field("Depth");
        if (depth < 1) return;
        var reason = Field("Reason");
        var kind = Field("Type");
        _collections.Enqueue((depth, kind < Kinds.Length ? Kinds[kind] : $"type {kind}", reason < Reasons.Length ? Reasons[reason] : $"reason {reason}"));
    }

    /// <summary>The collections of generation 1 and 2 since the last call, counted by generation, kind and reason ("" when none).</summary>
    public string TakeSummary()
    {
        var taken = new List<(int Depth, string Kind, string Reason)>();
        while (_collections.TryDequeue(out var c)) taken.Add(c);
        return string.Join("; ", taken.GroupBy(c => c).OrderByDescending(g => g.Key.Depth).ThenByDescending(g => g.Count())
            .Select(g => $"gen{g.Key.Depth} {g.Key.Kind} {g.Key.Reason} x{g.Count()}"));
    }
}
