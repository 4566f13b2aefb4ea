namespace Serverless.Core.Serving;

/// <summary>
/// No verified copy of the version a request needs is held, and the stored one failed its integrity check (its bytes do
/// not match the sha256 of its manifest). The HTTP layer answers 503: the model exists, but cannot be served until a
/// person rolls back or registers it again.
/// </summary>
public sealed class ModelUnavailableException(string model, string version, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public string Model { get; } = model;
    public string Version { get; } = version;

    /// <summary>When this host checks the version's bytes again (sent as <c>Retry-After</c>); null when nothing will change by itself.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
