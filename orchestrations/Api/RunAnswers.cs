namespace Serverless.Orchestrations;

// The answers of the run routes, as named records so that the OpenAPI document describes each one's schema.

/// <summary><c>GET /api/orchestrations</c>: one page of training runs, newest first, and how many there are in all.</summary>
public sealed record RunPage(string? Model, int Total, int Skip, int Top, IReadOnlyList<RunStatus> Runs);

/// <summary>
/// The 202 answer of a started run, in the shape of Durable Functions' check-status response: the run's id and the
/// URLs that read, signal, end and delete it (plus the approval gate's two).
/// </summary>
public sealed record CheckStatusAnswer(
    string Id,
    string StatusQueryGetUri,
    string SendEventPostUri,
    string TerminatePostUri,
    string PurgeHistoryDeleteUri,
    string ApprovePostUri,
    string RejectPostUri);

/// <summary>The 202 answer of approve or reject.</summary>
public sealed record DecisionAnswer(string InstanceId, string Decision);

/// <summary>
/// The 202 answer of terminate: the run, the reason, and, for a run stopped at its approval gate, the version it waited
/// with and the status that version has now (<c>rejected</c>, or <c>approved</c> where an approval was sent first); for a
/// run stopped after it registered a version no one had decided on yet, that version, now <c>rejected</c>.
/// </summary>
public sealed record TerminateAnswer(string InstanceId, string Reason, string? Version = null, string? VersionStatus = null);

/// <summary>The answer of a purge: how many instances were deleted.</summary>
public sealed record PurgeAnswer(int InstancesDeleted);
