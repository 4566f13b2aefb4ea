namespace Serverless.Core.Api;

/// <summary>
/// Bad input from a caller, naming each bad field. The HTTP layer answers it with 400 problem details;
/// <paramref name="errors"/> maps a field (a column name, a JSON path) to what is wrong with it.
/// </summary>
public sealed class BadRequestException(string message, IReadOnlyDictionary<string, string[]>? errors = null) : Exception(message)
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors ?? new Dictionary<string, string[]>();
}

/// <summary>A request body over the allowed size; answered with 413.</summary>
public sealed class PayloadTooLargeException(string message) : Exception(message);

/// <summary>A body in an encoding the API does not read (a compressed one); answered with 415.</summary>
public sealed class UnsupportedMediaTypeException(string message) : Exception(message);

/// <summary>A resource that existed and was removed for good (a purged run); answered with 410.</summary>
public sealed class GoneException(string message) : Exception(message);
