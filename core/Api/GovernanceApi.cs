using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;

namespace Serverless.Core.Api;

using static ApiResults;

/// <summary>
/// The HTTP handlers of governance, shared by both hosts: the spec in force and its history, archiving a version, the
/// history of every alias, the model card (markdown and HTML), and downloads of a version's <c>model.zip</c> and a dataset
/// version's profile. Names of models, versions and dataset versions are checked before anything reaches storage.
/// </summary>
public sealed class GovernanceApi(
    ModelSpecStore specs,
    ModelRegistry registry,
    ModelIntegrity integrity,
    ModelPresence presence,
    ModelLifecycle lifecycle,
    DatasetStore datasets,
    PredictionService predictions,
    ILogger<GovernanceApi> logger)
{
    /// <summary><c>GET /api/models/{model}/spec</c>: the spec in force (version, who, when, from where) and every earlier version.</summary>
    public Task<IResult> GetSpecAsync(string model, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        var current = await specs.GetCurrentAsync(model, ct);
        if (current is null) await presence.EnsureExistsAsync(model, ct);
        var history = await specs.HistoryAsync(model, ct);
        return Json(new { Model = model, Current = current, History = history });
    });

    /// <summary><c>POST /api/models/{model}/versions/{version}/archive</c> with an optional <c>{"reason": "..."}</c>.</summary>
    public Task<IResult> ArchiveAsync(string model, string version, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        version = CheckVersionName(version);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        var doc = await lifecycle.ArchiveAsync(model, version, Actor(request), body?.Reason ?? "archived", ct);
        predictions.Forget(model, version);
        await predictions.RefreshAsync(model, ct);
        return Json(new { Model = model, Version = version, Status = VersionStatus.Archived, doc.Aliases });
    });

    /// <summary><c>GET /api/models/{model}/aliases</c>: where each alias points, and every move of each (who, when, why, from, to, forced).</summary>
    public Task<IResult> GetAliasesAsync(string model, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        var doc = await registry.GetAsync(model, ct) ?? throw new NotFoundException($"Model '{model}' has no registered version.");
        var aliases = doc.History.Select(h => h.Alias).Concat(doc.Aliases.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return Json(new
        {
            Model = model,
            Aliases = aliases.Select(alias => new
            {
                Alias = alias,
                Version = doc.Aliases.GetValueOrDefault(alias),
                History = doc.History.Where(h => h.Alias == alias).Select(h => new { h.At, h.By, h.Reason, h.From, h.To, Action = AliasMoves.Of(h), h.Forced }),
            }),
            ProductionStack = ModelRegistry.ProductionStack(doc),
        });
    });

    /// <summary><c>GET .../versions/{version}/model.zip</c>: the version's model, checked against its manifest's sha256 first.</summary>
    public Task<IResult> DownloadModelAsync(string model, string version, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        version = CheckVersionName(version);
        byte[] bytes;
        try
        {
            (_, bytes) = await integrity.LoadAsync(model, version, Actor(request), ct);
        }
        catch (ModelUnavailableException e)
        {
            throw new ModelUnavailableException(model, version, $"{e.Message} Its bytes are not sent. {ModelIntegrity.Remedy(model)}");
        }
        return Results.File(bytes, "application/zip", $"{model}-{version}.zip");
    });

    /// <summary><c>GET .../versions/{version}/card.md</c>: the model card as markdown.</summary>
    public Task<IResult> CardMarkdownAsync(string model, string version, CancellationToken ct) => Guard(logger, async () =>
        Results.Text(await CardAsync(model, version, ct), "text/markdown; charset=utf-8"));

    /// <summary><c>GET .../versions/{version}/card.html</c>: the model card rendered as an HTML page.</summary>
    public Task<IResult> CardHtmlAsync(string model, string version, CancellationToken ct) => Guard(logger, async () =>
        Results.Text(Training.ModelCard.Html(await CardAsync(model, version, ct), $"{model} {version}"), "text/html; charset=utf-8"));

    /// <summary><c>GET /api/models/{model}/datasets/{datasetVersion}/profile</c>: the dataset version's profile (schema statistics, the drift baseline).</summary>
    public Task<IResult> DatasetProfileAsync(string model, string datasetVersion, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        CheckDatasetVersionName(datasetVersion);
        var profile = await datasets.GetProfileAsync(model, datasetVersion, ct)
            ?? throw new NotFoundException($"Model '{model}' has no dataset version '{datasetVersion}'.");
        return Json(profile);
    });

    /// <summary>
    /// The stored card (written when the version was registered, and never changed) under a line that says where the
    /// version stands now: its status and the aliases that point at it.
    /// </summary>
    private async Task<string> CardAsync(string model, string version, CancellationToken ct)
    {
        CheckModelName(model);
        version = CheckVersionName(version);
        var card = await registry.GetCardAsync(model, version, ct) ?? throw new NotFoundException($"Model '{model}' has no version '{version}'.");
        var doc = await registry.GetAsync(model, ct);
        return doc?.Versions.Find(v => v.Version == version) is { } entry ? NowNote(entry, doc.Aliases) + card : card;
    }

    private static string NowNote(VersionEntry entry, IReadOnlyDictionary<string, string> aliases)
    {
        var held = aliases.Where(a => a.Value == entry.Version).Select(a => a.Key).Order(StringComparer.Ordinal).ToList();
        var where = held.Count == 0 ? "no alias points at it" : $"it is {string.Join(" and ", held)}";
        var withdrawn = VersionStatus.IsWithdrawn(entry.Status) ? $" ({ModelRegistry.NeedsForce(entry)}; it is served again only if promoted with force)" : "";
        return $"> **Now:** {entry.Status}{withdrawn}; {where}. The card below is as written when the version was registered.\n\n";
    }
}
