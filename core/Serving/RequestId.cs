namespace Serverless.Core.Serving;

/// <summary>The id a prediction request is known by: the caller's <c>x-request-id</c> when it is a safe token, else a new one.</summary>
public static class RequestId
{
    public const string Header = "x-request-id";

    /// <summary>Sent where the caller's <c>x-request-id</c> was not a safe token and a new one answers instead: says why.</summary>
    public const string ReplacedHeader = "x-request-id-replaced";

    /// <summary>The field of a problem's answer that carries the request id (beside the header).</summary>
    public const string ProblemField = "requestId";

    private const int MaxLength = 128;

    /// <summary>What a caller's id may be.</summary>
    public const string Allowed = "1 to 128 characters of A-Z a-z 0-9 - _ . : / + =";

    /// <summary>What <see cref="ReplacedHeader"/> says when the caller's id is not <see cref="Allowed"/>.</summary>
    public const string Rule = "the x-request-id sent is not " + Allowed + ", so this request has a new id";

    /// <summary>What <see cref="ReplacedHeader"/> says when the header came more than once.</summary>
    public static string GivenTwice(int count) => $"x-request-id was sent {count} times, so this request has a new id";

    /// <summary>
    /// <paramref name="incoming"/> when it is 1 to 128 characters of letters, digits and <c>- _ . : / + =</c> (what
    /// trace and correlation ids are made of, and safe to echo in a header, a log line or JSON); otherwise a new id.
    /// </summary>
    public static string Accept(string? incoming) => IsSafe(incoming) ? incoming! : New();

    /// <summary>A new id: 32 hex digits, a random prefix of this process and a counter (unique without a random draw per request).</summary>
    public static string New() => string.Create(32, Interlocked.Increment(ref _counter), static (span, count) =>
    {
        Prefix.AsSpan().CopyTo(span);
        count.TryFormat(span[16..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
    });

    private static readonly string Prefix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
    private static long _counter;

    public static bool IsSafe(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength) return false;
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or ':' or '/' or '+' or '=')) return false;
        }
        return true;
    }
}
