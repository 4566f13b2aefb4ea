using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Storage;

namespace Serverless.Cli;

/// <summary>
/// The pipeline's HTTP API as the command line uses it: routes from <see cref="ApiRoutes"/>, the admin key in the header
/// the hosts read, and problem-details answers turned into one readable message.
/// </summary>
public sealed class PipelineClient : IDisposable
{
    public const string AdminKeyHeader = Serverless.Core.Api.AdminAccess.KeyHeader;
    public const string UserHeader = "x-user";

    private readonly HttpClient _http;
    private readonly string? _adminKey;

    public PipelineClient(Uri host, string? adminKey)
    {
        Host = host;
        _adminKey = adminKey;
        _http = new HttpClient { BaseAddress = host, Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Add(UserHeader, $"{Environment.UserName} (mlops)");
    }

    public Uri Host { get; }

    /// <summary>The path of an <see cref="ApiRoutes"/> template with its <c>{parameters}</c> filled in order.</summary>
    public static string Route(string template, params string[] values)
    {
        var path = new StringBuilder("/" + ApiRoutes.Prefix + "/");
        var next = 0;
        foreach (var segment in template.Split('/'))
        {
            if (path[^1] != '/') path.Append('/');
            path.Append(segment.StartsWith('{') ? Uri.EscapeDataString(values[next++]) : segment);
        }
        return path.ToString();
    }

    /// <summary>GET a JSON answer; null for 404 when <paramref name="notFoundIsNull"/>.</summary>
    public async Task<JsonObject?> GetAsync(string pathAndQuery, CancellationToken ct, bool notFoundIsNull = false)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, pathAndQuery), ct);
        if (notFoundIsNull && response.StatusCode == HttpStatusCode.NotFound && IsPipelines(response)) return null;
        return await ReadAsync(response, ct);
    }

    /// <summary>GET a JSON answer, or for 404 (not there) and 410 (removed for good) only the status.</summary>
    public async Task<(HttpStatusCode Status, JsonObject? Body)> GetOrAbsentAsync(string pathAndQuery, CancellationToken ct)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, pathAndQuery), ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone && IsPipelines(response)) return (response.StatusCode, null);
        return (response.StatusCode, await ReadAsync(response, ct));
    }

    /// <summary>PUT JSON text, as it is, to an admin route, with the admin key when one was given.</summary>
    public async Task<JsonObject?> PutAdminJsonAsync(string path, string json, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (!string.IsNullOrEmpty(_adminKey)) request.Headers.Add(AdminKeyHeader, _adminKey);
        using var response = await SendAsync(request, ct);
        return await ReadAsync(response, ct);
    }

    /// <summary>POST to an admin route, with the admin key when one was given.</summary>
    public async Task<JsonObject?> PostAdminAsync(string path, object? body, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        // Sent with a Content-Length: the hosts read an optional body (a rollback's reason) only when one is announced.
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body, JsonBlobs.Options), Encoding.UTF8, "application/json");
        if (!string.IsNullOrEmpty(_adminKey)) request.Headers.Add(AdminKeyHeader, _adminKey);
        using var response = await SendAsync(request, ct);
        return await ReadAsync(response, ct);
    }

    /// <summary>Whether an error answer is the pipeline's: it answers every error with problem details.</summary>
    private static bool IsPipelines(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType == System.Net.Mime.MediaTypeNames.Application.ProblemJson;

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            // The innermost reason says what happened (a refused connection, a TLS handshake with a plain-HTTP host).
            var reason = e.GetBaseException().Message.TrimEnd('.');
            throw new CliException($"cannot reach {Host}: {reason}. Is the host running (./run), and is --host right{(Host.Scheme == Uri.UriSchemeHttps ? " (the local host speaks http, not https)" : "")}?");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException($"{Host} did not answer {request.Method} {request.RequestUri} within {_http.Timeout.TotalSeconds:N0} s.");
        }
        finally
        {
            request.Dispose();
        }
    }

    private async Task<JsonObject?> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonNode? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            if (response.IsSuccessStatusCode) throw new CliException($"{Host} answered {(int)response.StatusCode} with a body that is not JSON.");
        }
        if (response.IsSuccessStatusCode) return body as JsonObject;

        var message = new StringBuilder($"{(int)response.StatusCode} {response.ReasonPhrase}");
        if (body?["detail"]?.GetValue<string>() is { } detail) message.Append(": ").Append(detail);
        else if (body?["title"]?.GetValue<string>() is { } title) message.Append(": ").Append(title);
        if (body?["errors"] is JsonObject errors)
        {
            // A detail that names every field's problems already (a spec's) is not repeated; one that names a few (predict's) is completed.
            var said = message.ToString();
            foreach (var (field, problems) in errors)
            {
                var texts = problems?.AsArray().Select(p => p?.ToString() ?? "").ToList() ?? [];
                if (said.Contains($"{field}: ", StringComparison.Ordinal) && texts.All(t => said.Contains(t.TrimEnd('.'), StringComparison.Ordinal))) continue;
                message.Append($" [{field}: {string.Join("; ", texts)}]");
            }
        }
        if (response.StatusCode == HttpStatusCode.Unauthorized) message.Append(" Pass the admin key with --key or set MLOPS_ADMIN_KEY.");
        // The pipeline answers every error with problem details: an answer without them came from something else.
        else if (body?["detail"] is null && body?["title"] is null)
        {
            message.Append($" The answer is not the pipeline's (no problem details): is {Host} the pipeline's host? Set --host or MLOPS_HOST to it (./run prints its address).");
        }
        throw new CliException(message.ToString(), status: response.StatusCode);
    }

    public void Dispose() => _http.Dispose();
}
