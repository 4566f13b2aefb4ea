namespace Serverless.Core.Api;

/// <summary>
/// The optional body of the routes that change state on a person's word (rollback, archive, approve, reject): why.
/// Who is not taken from the body but from the caller's identity (<see cref="ApiResults.Actor"/>).
/// </summary>
public sealed record ReasonBody([property: System.Text.Json.Serialization.JsonConverter(typeof(Reasons.JsonConverter))] string? Reason = null);
