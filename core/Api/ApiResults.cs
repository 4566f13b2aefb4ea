using System.Text.Json;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serverless.Core.Hosting;
using Serverless.Core.Registry;
using Serverless.Core.Storage;

namespace Serverless.Core.Api;

/// <summary>
/// What every HTTP handler shares: reading bodies (size-limited, strictly typed), answering JSON, and turning the
/// pipeline's typed exceptions into problem details (400, 404, 409, 413, 503), never a 500.
/// </summary>
public static class ApiResults
{
    public const long MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>The authenticated caller, as the host signed it in (<see cref="AdminAccess.ActorOf"/>).</summary>
    public static string Actor(HttpRequest request) => AdminAccess.ActorOf(request.HttpContext.User);

    /// <summary>A value as quoted back in an error message: at most <paramref name="max"/> characters.</summary>
    public static string Truncate(string value, int max = 40) => value.Length <= max ? value : value[..max] + "…";

    public static void CheckModelName(string model)
    {
        if (!ModelNames.IsValid(model)) throw new BadRequestException($"'{model}' is not a valid model name: {ModelNames.Rule}.", Field("model", ModelNames.Rule));
    }

    /// <summary>
    /// A version as given in a route, query or body, in the vN form (a bare 2 is read as v2); anything else (a path, odd
    /// characters) is a 400 naming <paramref name="field"/>, before it reaches storage.
    /// </summary>
    public static string CheckVersionName(string version, string field = "version") =>
        Registry.VersionNames.Normalize(version)
        ?? throw new BadRequestException($"'{Truncate(version)}' is not a version; versions are named v1, v2, ...", Field(field, Registry.VersionNames.Rule));

    /// <summary>Dataset versions are content addresses (<see cref="DatasetVersionNames"/>): anything else is refused before it reaches storage.</summary>
    public static void CheckDatasetVersionName(string datasetVersion, string field = "datasetVersion")
    {
        if (!DatasetVersionNames.IsValid(datasetVersion))
        {
            var shown = datasetVersion.Length <= 40 ? datasetVersion : datasetVersion[..40] + "…";
            throw new BadRequestException($"'{shown}' is not a dataset version: {DatasetVersionNames.Rule}.", Field(field, DatasetVersionNames.Rule));
        }
    }

    public static Dictionary<string, string[]> Field(string name, string problem) => new() { [name] = [problem] };

    public static IResult Json(object value) => Results.Json(value, ApiJson.Options);

    public static IResult Json(object value, int status) => Results.Json(value, ApiJson.Options, statusCode: status);

    public static async Task<JsonDocument> ReadDocumentAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) throw new PayloadTooLargeException($"The body is {request.ContentLength} bytes; the limit is {MaxBodyBytes}.");
        ReadOnlyMemory<byte> body;
        try
        {
            body = request.ContentLength is { } length ? await ReadExactlyAsync(request.Body, (int)length, ct) : await ReadToEndAsync(request.Body, ct);
        }
        catch (BadHttpRequestException e)
        {
            // The server's own limits, or a body cut short by the client: bad input, not a 500.
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge) throw new PayloadTooLargeException($"The body is larger than the server accepts: {e.Message}");
            throw new BadRequestException($"The body could not be read: {e.Message}");
        }
        if (body.Length == 0) throw new BadRequestException("The body is empty; send a JSON object.");
        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"The body is not valid JSON: {e.Message}", Field("body", $"invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}"));
        }
    }

    /// <summary>A body of known length, read into an array of that length (the common case: one small allocation per request).</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadExactlyAsync(Stream body, int length, CancellationToken ct)
    {
        var buffer = new byte[length];
        var read = await body.ReadAtLeastAsync(buffer, length, throwOnEndOfStream: false, ct);
        if (read < length) throw new BadRequestException($"The body ended after {read} of the {length} bytes its Content-Length announced.");
        return buffer;
    }

    private static async Task<ReadOnlyMemory<byte>> ReadToEndAsync(Stream body, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16384);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxBodyBytes) throw new PayloadTooLargeException($"The body is larger than the limit of {MaxBodyBytes} bytes.");
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    public static async Task<T?> ReadJsonAsync<T>(HttpRequest request, bool strict, CancellationToken ct)
    {
        using var document = await ReadDocumentAsync(request, ct);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new BadRequestException("The body must be a JSON object.");
        try
        {
            return document.RootElement.Deserialize<T>(strict ? StrictOptions : JsonBlobs.Options);
        }
        catch (JsonException e)
        {
            var path = string.IsNullOrEmpty(e.Path) ? "body" : e.Path.TrimStart('$', '.');
            throw new BadRequestException($"The body does not fit: {e.Message}", Field(path, e.Message));
        }
    }

    private static readonly JsonSerializerOptions StrictOptions = new(JsonBlobs.Options)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Runs a handler and turns the pipeline's typed exceptions into problem details.</summary>
    public static async Task<IResult> Guard(ILogger logger, Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (BadRequestException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad request", e.Message, e.Errors.Count == 0 ? null : e.Errors);
        }
        catch (Specs.InvalidSpecException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid model spec", e.Message, e.Problems);
        }
        catch (NotFoundException e)
        {
            return Problem(StatusCodes.Status404NotFound, "Not found", e.Message);
        }
        catch (ConflictException e)
        {
            return Problem(StatusCodes.Status409Conflict, "Conflict", e.Message);
        }
        catch (PayloadTooLargeException e)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", e.Message);
        }
        catch (Serving.ModelUnavailableException e)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "Model unavailable", e.Message);
        }
        catch (KeyNotFoundException e)
        {
            return Problem(StatusCodes.Status404NotFound, "Not found", e.Message);
        }
        catch (RequestFailedException e) when (e.Status == 412 || e.Status == 409)
        {
            return Problem(StatusCodes.Status409Conflict, "Conflict", "The resource changed while the request ran; try again.");
        }
        catch (InvalidDataException e)
        {
            logger.LogError(e, "Integrity failure");
            return Problem(StatusCodes.Status500InternalServerError, "Integrity check failed", e.Message);
        }
    }

    public static IResult Problem(int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null)
    {
        var extensions = errors is null ? null : new Dictionary<string, object?> { ["errors"] = errors };
        return Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }

    /// <summary>A result with a Location header, as the check-status response carries.</summary>
    public sealed class WithLocation(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
