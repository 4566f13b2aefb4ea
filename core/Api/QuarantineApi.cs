using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;

namespace Serverless.Core.Api;

using static ApiResults;

/// <summary>
/// <c>GET /api/models/{model}/quarantine?max=</c>: a model's rejected uploads, newest first, each with its reason codes,
/// the reason in words, the row problems and where the file is kept. Both hosts map their route to this handler.
/// </summary>
public sealed class QuarantineApi(QuarantineStore quarantine, ModelPresence presence, ILogger<QuarantineApi> logger)
{
    public const int DefaultMax = 50;
    public const string MaxParameter = "max";
    public const int MaxMax = 500;

    public Task<IResult> ListAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        // The folder of files dropped under no valid model name is listed too: it is where a person finds them.
        if (model != Datasets.DropZoneNames.InvalidFolder) CheckModelName(model);
        OnlyQueryParameters(request, MaxParameter);
        var maxText = request.Query[MaxParameter].FirstOrDefault();
        var max = DefaultMax;
        if (maxText is not null && (!int.TryParse(maxText, out max) || max is < 1 or > MaxMax))
        {
            throw new BadRequestException($"'max' must be a whole number from 1 to {MaxMax}, not '{maxText}'.", Field("max", $"1 to {MaxMax}"));
        }
        var files = await quarantine.ListAsync(model, ct);
        if (files.Count == 0) await presence.EnsureExistsAsync(model, ct);
        return Json(new QuarantineList(model, files.Count, [.. files.Take(max).Select(f => QuarantinedEntry.Of(f, quarantine.OriginalOf(f), withLocation: true))]));
    });
}
