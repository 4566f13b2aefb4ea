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
public sealed record DecisionAnswer(string InstanceId, string Decision, string? Note = null);

/// <summary>
/// The 202 answer of terminate: the run, the reason, and, for a run that registered a version, that version and the status
/// it has now: <c>rejected</c> when no one had decided on it; <c>approved</c> where an approval was sent first (the run
/// does not promote it); or the status it had when it reached production before the terminate. <see cref="Note"/> says
/// what to do in those last two cases.
/// </summary>
public sealed record TerminateAnswer(string InstanceId, string Reason, string? Version = null, string? VersionStatus = null, string? Note = null);

/// <summary>The answer of a purge: how many instances were deleted.</summary>
public sealed record PurgeAnswer(int InstancesDeleted);
