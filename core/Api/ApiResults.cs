using System.Buffers;
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

    /// <summary>
    /// The request's id (<see cref="Serving.RequestId.Accept"/>: the caller's <c>x-request-id</c> when it is a safe
    /// token, else a new one, and then <see cref="Serving.RequestId.ReplacedHeader"/> says why), set on the answer's
    /// <c>x-request-id</c> header.
    /// </summary>
    public static string AnswerRequestId(HttpRequest request)
    {
        var incoming = request.Headers[Serving.RequestId.Header];
        if (incoming.Count > 1)
        {
            // Which of two ids was meant cannot be told: neither is taken, and the answer says why.
            var fresh = Serving.RequestId.New();
            request.HttpContext.Response.Headers[Serving.RequestId.Header] = fresh;
            request.HttpContext.Response.Headers[Serving.RequestId.ReplacedHeader] = Serving.RequestId.GivenTwice(incoming.Count);
            return fresh;
        }
        var requestId = Serving.RequestId.Accept(incoming.Count > 0 ? incoming[0] : null);
        request.HttpContext.Response.Headers[Serving.RequestId.Header] = requestId;
        if (incoming.Count > 0 && !ReferenceEquals(requestId, incoming[0])) request.HttpContext.Response.Headers[Serving.RequestId.ReplacedHeader] = Serving.RequestId.Rule;
        return requestId;
    }

    /// <summary>
    /// Keeps the request's id for the problem details the host writes (<c>CustomizeProblemDetails</c> puts it in the body):
    /// a handler's 4xx, and a fault's 500, whose headers the host clears before answering.
    /// </summary>
    public static void KeepRequestIdForProblems(HttpRequest request, string requestId) => request.HttpContext.Items[Serving.RequestId.Header] = requestId;

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

    /// <summary>
    /// Adds to <paramref name="errors"/> each query parameter not in <paramref name="known"/>: a misspelt filter or selector
    /// (<c>?versoin=v3</c>) would otherwise be ignored, and the answer be of something else than was asked; and each known
    /// one given more than once but those in <paramref name="repeatable"/> (<c>?model=a&amp;model=b</c>: which one was meant
    /// cannot be told, and reading the first would answer for one of them without a word).
    /// </summary>
    public static void UnknownQueryParameters(IQueryCollection query, IReadOnlyCollection<string> known, Dictionary<string, string[]> errors,
        IReadOnlyCollection<string>? repeatable = null)
    {
        foreach (var name in query.Keys)
        {
            if (name == AdminAccess.KeyParameter)
            {
                // The admin key is taken on every route (the Functions host's convention), once like any other parameter.
                if (query[name].Count > 1) errors[name] = [$"given {query[name].Count} times; give it once"];
                continue;
            }
            if (!known.Contains(name))
            {
                errors[Truncate(name)] = [known.Count == 0 ? "unknown query parameter; this route takes none" : $"unknown query parameter; {Specs.NameSuggestions.Hint(name, known, "the parameters here are")}"];
            }
            else if (query[name].Count > 1 && repeatable?.Contains(name) != true)
            {
                errors[name] = [$"given {query[name].Count} times; give it once"];
            }
        }
    }

    /// <summary>A 400 naming every query parameter the route does not take, or takes once and was given more often (see <see cref="UnknownQueryParameters"/>).</summary>
    public static void OnlyQueryParameters(HttpRequest request, params string[] known) => OnlyQueryParameters(request, known, repeatable: []);

    /// <inheritdoc cref="OnlyQueryParameters(HttpRequest, string[])"/>
    public static void OnlyQueryParameters(HttpRequest request, IReadOnlyCollection<string> known, IReadOnlyCollection<string> repeatable)
    {
        if (!request.QueryString.HasValue) return;
        var problems = new Dictionary<string, string[]>();
        UnknownQueryParameters(request.Query, known, problems, repeatable);
        if (problems.Count == 0) return;
        var unknown = problems.Keys.Where(k => !known.Contains(k)).ToList();
        var described = string.Join("; ", problems.Select(u => $"'{u.Key}': {u.Value[0]}"));
        throw new BadRequestException(unknown.Count == 0 ? $"A query parameter is given more than once: {described}."
            : (known.Count == 0 ? "This route takes no query parameters: " : $"This route takes the query parameters {string.Join(", ", known)} only: ") + $"{described}.", problems);
    }

    /// <summary>A whole-number query parameter from <paramref name="min"/> to <paramref name="max"/>, or <paramref name="fallback"/> when absent (400 otherwise).</summary>
    public static int QueryInt(HttpRequest request, string name, int fallback, int min, int max)
    {
        var text = request.Query[name].FirstOrDefault();
        if (text is null) return fallback;
        if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            var range = max == int.MaxValue ? $"of {min} or more" : $"from {min} to {max}";
            throw new BadRequestException($"'{name}' must be a whole number {range}, not '{Truncate(text)}'.", Field(name, max == int.MaxValue ? $"{min} or more" : $"{min} to {max}"));
        }
        return value;
    }

    public static IResult Json(object value) => Results.Json(value, ApiJson.Options);

    public static IResult Json(object value, int status) => Results.Json(value, ApiJson.Options, statusCode: status);

    public static async ValueTask<JsonDocument> ReadDocumentAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) throw new PayloadTooLargeException($"The body is {request.ContentLength} bytes; the limit is {MaxBodyBytes}.");
        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && !encoding.All(e => string.Equals(e, "identity", StringComparison.OrdinalIgnoreCase)))
        {
            // A compressed body would be read as text and reported as not UTF-8, which is not what is wrong.
            throw new UnsupportedMediaTypeException($"The body is sent with Content-Encoding '{Truncate(encoding.ToString())}'; the API reads JSON as it is. Send the body uncompressed, without that header.");
        }
        byte[] body;
        try
        {
            body = await ReadBodyAsync(request.BodyReader, request.ContentLength, ct);
        }
        catch (BadHttpRequestException e)
        {
            // The server's own limits, or a body cut short by the client: bad input, not a 500. The server's wording names its settings: said in the API's own.
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge) throw new PayloadTooLargeException($"The body is larger than the server accepts (at most {MaxBodyBytes} bytes).");
            if (e.StatusCode == StatusCodes.Status408RequestTimeout)
            {
                throw new BadRequestException($"The body stopped arriving{(request.ContentLength is { } length ? $" before the {length} bytes its Content-Length announced" : "")}, and the server stopped waiting for it. Send the whole body.");
            }
            throw new BadRequestException("The body could not be read: it ended before its Content-Length, or its chunked encoding is broken. Send the whole body.");
        }
        if (body.Length == 0) throw new BadRequestException("The body is empty; send a JSON object.", Field("body", "empty"));
        var json = JsonText.WithoutByteOrderMark(body);
        if (JsonText.NotUtf8At(json.Span) is { } notUtf8)
        {
            throw new BadRequestException($"The body is not UTF-8 at {notUtf8}; JSON text must be UTF-8.", Field("body", $"not UTF-8 at {notUtf8}"));
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            var at = $"line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}";
            throw new BadRequestException($"The body is not valid JSON at {at}: {JsonText.Reason(e)}", Field("body", $"invalid JSON at {at}"));
        }
        if (JsonText.HalfSurrogateAt(json.Span) is { } half)
        {
            document.Dispose();
            throw new BadRequestException($"The body's string starting at {half} holds a \\u escape of half a character (a UTF-16 surrogate without its other half, as when an emoji is cut in two). " +
                                          "Escape both halves of the character, or send it as UTF-8.", Field("body", $"half a character at {half}"));
        }
        return document;
    }

    /// <summary>
    /// The whole body, read from the server's pipe (cheaper per request than the stream over it: a small body is usually
    /// whole in the first read), at most <see cref="MaxBodyBytes"/> (else 413). What is read is consumed at once, as the
    /// server stops filling a pipe whose unconsumed bytes pass its buffer limit.
    /// </summary>
    private static async ValueTask<byte[]> ReadBodyAsync(System.IO.Pipelines.PipeReader reader, long? length, CancellationToken ct)
    {
        var exact = length is { } announced ? new byte[announced] : null;
        var growing = exact is null ? new ArrayBufferWriter<byte>() : null;
        var read = 0L;
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (exact is not null)
            {
                var take = buffer.Slice(0, Math.Min(buffer.Length, exact.Length - read));
                take.CopyTo(exact.AsSpan((int)read));
                read += take.Length;
            }
            else if (read + buffer.Length <= MaxBodyBytes)
            {
                buffer.CopyTo(growing!.GetSpan((int)buffer.Length));
                growing.Advance((int)buffer.Length);
                read += buffer.Length;
            }
            else
            {
                reader.AdvanceTo(buffer.End);
                throw new PayloadTooLargeException($"The body is larger than the limit of {MaxBodyBytes} bytes.");
            }
            reader.AdvanceTo(buffer.End);
            if (exact is not null && read == exact.Length) return exact;
            if (result.IsCompleted)
            {
                if (exact is not null) throw new BadRequestException($"The body ended after {read} of the {exact.Length} bytes its Content-Length announced.");
                return growing!.WrittenSpan.ToArray();
            }
        }
    }

    public static async Task<T?> ReadJsonAsync<T>(HttpRequest request, bool strict, CancellationToken ct)
    {
        using var document = await ReadDocumentAsync(request, ct);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var fields = StrictOptions.GetTypeInfo(typeof(T)).Properties.Select(p => p.Name).ToList();
            throw new BadRequestException($"The body must be a JSON object{(fields.Count == 0 ? "" : $" (its fields: {string.Join(", ", fields)})")}, " +
                                          $"not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.", Field("body", "must be a JSON object"));
        }
        if (strict && Specs.SpecReader.ShapeProblems(document.RootElement, typeof(T)) is { Count: > 0 } problems)
        {
            throw new BadRequestException($"The body has {problems.Count} problem(s): {string.Join("; ", problems.Select(p => $"{p.Key}: {string.Join(", ", p.Value.Select(v => v.TrimEnd('.')))}"))}.", problems);
        }
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
        catch (Exception e) when (ProblemOf(e, logger) is { } problem)
        {
            return problem;
        }
    }

    /// <summary>The problem details answering one of the pipeline's typed exceptions; null for any other exception (a 500, with the host's handling).</summary>
    public static IResult? ProblemOf(Exception exception, ILogger logger)
    {
        switch (exception)
        {
            case BadRequestException e:
                return Problem(StatusCodes.Status400BadRequest, "Bad request", e.Message, e.Errors.Count == 0 ? null : e.Errors);
            case Specs.InvalidSpecException e:
                return Problem(StatusCodes.Status400BadRequest, "Invalid model spec", e.Message, e.Problems);
            case NotFoundException e:
                return Problem(StatusCodes.Status404NotFound, "Not found", e.Message);
            case ConflictException e:
                return Problem(StatusCodes.Status409Conflict, "Conflict", e.Message);
            case GoneException e:
                return Problem(StatusCodes.Status410Gone, "Gone", e.Message);
            case PayloadTooLargeException e:
                return Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", e.Message);
            case UnsupportedMediaTypeException e:
                return Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", e.Message);
            case Serving.ModelUnavailableException e:
                var unavailable = Problem(StatusCodes.Status503ServiceUnavailable, "Model unavailable", e.Message);
                return e.RetryAfter is { } after ? new WithHeader(unavailable, Microsoft.Net.Http.Headers.HeaderNames.RetryAfter, Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture)) : unavailable;
            case KeyNotFoundException e:
                return Problem(StatusCodes.Status404NotFound, "Not found", e.Message);
            case RequestFailedException { Status: 412 or 409 }:
                return Problem(StatusCodes.Status409Conflict, "Conflict", "The resource changed while the request ran; try again.");
            case InvalidDataException e:
                logger.LogError(e, "Integrity failure");
                return Problem(StatusCodes.Status500InternalServerError, "Integrity check failed", e.Message);
            default:
                return null;
        }
    }

    public static IResult Problem(int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null)
    {
        var extensions = errors is null ? null : new Dictionary<string, object?> { ["errors"] = errors };
        return Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }

    /// <summary>The content type of the API's JSON answers written as bytes (predict's, the OpenAPI document).</summary>
    public const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>The content type of a version's <c>model.zip</c>, stored and downloaded.</summary>
    public const string ZipContentType = "application/zip";

    /// <summary>The content type of a model card as markdown, stored and served.</summary>
    public const string MarkdownContentType = "text/markdown; charset=utf-8";

    /// <summary>The content type of the pages the API serves: a model card as HTML, the dashboard.</summary>
    public const string HtmlContentType = "text/html; charset=utf-8";

    /// <summary>
    /// A predict answer, written with its Content-Length rather than chunked: its JSON (<see cref="Serving.PredictionJson"/>)
    /// copied from the thread's buffer straight into the response, with no array of its own. Cheaper per request than
    /// <c>Results.Bytes</c>, a file result that also reads the request's range and validator headers, which an answer
    /// computed per request has no use for. Nothing that renders an answer runs on the thread between the rendering and
    /// the copy (the response's start callbacks, run at its first write, render none).
    /// </summary>
    public sealed class PredictionAnswer(Serving.PredictionResponse answer) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            var json = Serving.PredictionJson.Render(answer);
            response.ContentType = JsonContentType;
            response.ContentLength = json.Length;
            response.BodyWriter.Write(json);
            var flush = response.BodyWriter.FlushAsync(httpContext.RequestAborted);
            return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
        }
    }

    /// <summary>An answer with one more response header (a Location, a Retry-After, a WWW-Authenticate); its status is the inner answer's.</summary>
    public sealed class WithHeader(IResult inner, string name, string value) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => (inner as IStatusCodeHttpResult)?.StatusCode;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[name] = value;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
