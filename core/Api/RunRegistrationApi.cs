using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serverless.Core.Registry;
using Serverless.Core.Training;

namespace Serverless.Core.Api;

using static ApiResults;

/// <summary>
/// <c>POST /api/models/{model}/runs/{runId}/register</c>: registers a candidate run as a new version by hand (body optional:
/// <c>{"reason": "..."}</c>), answering 201 with the version's manifest; 404 for an unknown model or run, 409 for a run
/// that failed, kept no split, or is already registered. Both hosts map the route to this handler.
/// </summary>
public sealed partial class RunRegistrationApi(RunRegistration registration, ModelPresence presence, ILogger<RunRegistrationApi> logger)
{
    /// <summary>Run ids as training writes them (<c>{orchestration id}-{run}-c00</c>): what a table key and a URL segment can carry.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,249}$")]
    private static partial Regex RunIdPattern();

    public const string RunIdRule = "1 to 250 letters, digits, '-', '_', '.' or ':', starting with a letter or digit";

    /// <summary>Whether <paramref name="runId"/> follows <see cref="RunIdRule"/>.</summary>
    public static bool IsRunId(string runId) => RunIdPattern().IsMatch(runId);

    public Task<IResult> RegisterAsync(string model, string runId, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        if (!IsRunId(runId))
        {
            throw new BadRequestException($"'{runId}' is not a run id: {RunIdRule}.", Field("runId", RunIdRule));
        }
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<RegisterBody>(request, strict: true, ct) : null;
        ModelManifest manifest;
        try
        {
            manifest = await registration.RegisterAsync(model, runId, Actor(request), body?.Reason, ct);
        }
        catch (NotFoundException e)
        {
            // The run's model may not exist at all (a misspelt name): the 404 every route gives for that.
            throw await presence.WithoutAsync(model, e.Message, ct);
        }
        var path = $"/{ApiRoutes.Prefix}/{ApiRoutes.Version.Replace("{model}", Uri.EscapeDataString(model), StringComparison.Ordinal).Replace("{version}", manifest.Version, StringComparison.Ordinal)}";
        return new Created(path, Results.Json(manifest, ApiJson.Options, statusCode: StatusCodes.Status201Created));
    });

    private sealed record RegisterBody([property: System.Text.Json.Serialization.JsonConverter(typeof(Reasons.JsonConverter))] string? Reason = null);

    /// <summary>A 201 with a Location header around a JSON result.</summary>
    private sealed class Created(string location, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
