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
    public Task<IResult> GetSpecAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        var current = await specs.GetCurrentAsync(model, ct);
        if (current is null) await presence.EnsureExistsAsync(model, ct);
        var history = await specs.HistoryAsync(model, ct);
        var note = current is null ? $"'{model}' has no spec: everything is inferred from the data. Set one with PUT /{ApiRoutes.Prefix}/{ApiRoutes.Spec.Replace("{model}", model, StringComparison.Ordinal)} or by dropping incoming/{model}/model.json." : null;
        return Json(new SpecAnswer(model, current, history, note));
    });

    /// <summary>
    /// <c>POST /api/models/{model}/versions/{version}/archive</c> with an optional <c>{"reason": "..."}</c>. A version
    /// archived already answers 200 with <c>alreadyArchived</c> and is not archived (nor audited) again.
    /// </summary>
    public Task<IResult> ArchiveAsync(string model, string version, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        version = CheckVersionName(version);
        var body = request.ContentLength is > 0 ? await ReadJsonAsync<ReasonBody>(request, strict: true, ct) : null;
        var (doc, changed) = await lifecycle.ArchiveAsync(model, version, Actor(request), body?.Reason, ct);
        predictions.Forget(model, version);
        await predictions.RefreshAsync(model, ct);
        // Archiving twice changes nothing and records nothing; the answer says so, and when, by whom and why it was archived.
        var archived = doc.Versions.Find(v => v.Version == version)?.StatusChanged;
        return Json(new ArchiveAnswer(model, version, VersionStatus.Archived, !changed, archived, doc.Aliases));
    });

    /// <summary><c>GET /api/models/{model}/aliases</c>: where each alias points, and every move of each (who, when, why, from, to, forced).</summary>
    public Task<IResult> GetAliasesAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        var doc = await registry.GetAsync(model, ct);
        if (doc is null)
        {
            // A model with data or a spec but no version yet has no alias, as its model view says: not a 404.
            await presence.EnsureExistsAsync(model, ct);
            doc = new RegistryDocument { Model = model };
        }
        var aliases = doc.History.Select(h => h.Alias).Concat(doc.Aliases.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return Json(new AliasList(model,
            [.. aliases.Select(alias => new AliasTrail(alias, doc.Aliases.GetValueOrDefault(alias), [.. doc.History.Where(h => h.Alias == alias).Select(AliasMove.Of)]))],
            ModelRegistry.ProductionStack(doc)));
    });

    /// <summary><c>GET .../versions/{version}/model.zip</c>: the version's model, checked against its manifest's sha256 first.</summary>
    public Task<IResult> DownloadModelAsync(string model, string version, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        version = CheckVersionName(version);
        byte[] bytes;
        try
        {
            (_, bytes) = await integrity.LoadAsync(model, version, Actor(request), ct);
        }
        catch (NotFoundException e)
        {
            throw await presence.WithoutAsync(model, e.Message, ct);
        }
        catch (ModelUnavailableException e)
        {
            throw new ModelUnavailableException(model, version, $"{e.Message} Its bytes are not sent. {ModelIntegrity.Remedy(model)}");
        }
        return Results.File(bytes, ApiResults.ZipContentType, $"{model}-{version}.zip");
    });

    /// <summary><c>GET .../versions/{version}/card.md</c>: the model card as markdown.</summary>
    public Task<IResult> CardMarkdownAsync(string model, string version, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        return Results.Text((await CardAsync(model, version, ct)).Card, ApiResults.MarkdownContentType);
    });

    /// <summary><c>GET .../versions/{version}/card.html</c>: the model card rendered as an HTML page.</summary>
    public Task<IResult> CardHtmlAsync(string model, string version, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        var (card, checkedVersion) = await CardAsync(model, version, ct);
        request.HttpContext.Response.Headers.ContentSecurityPolicy = Training.ModelCard.HtmlPolicy;
        request.HttpContext.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Text(Training.ModelCard.Html(card, $"{model} {checkedVersion}"), ApiResults.HtmlContentType);
    });

    /// <summary><c>GET /api/models/{model}/datasets/{datasetVersion}/profile</c>: the dataset version's profile (schema statistics, the drift baseline).</summary>
    public Task<IResult> DatasetProfileAsync(string model, string datasetVersion, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        OnlyQueryParameters(request);
        CheckModelName(model);
        CheckDatasetVersionName(datasetVersion);
        var profile = await datasets.GetProfileAsync(model, datasetVersion, ct)
            ?? throw await presence.WithoutAsync(model, $"Model '{model}' has no dataset version '{datasetVersion}'.", ct);
        return Json(profile);
    });

    /// <summary>The card as served (<see cref="ModelRegistry.GetCardAsServedAsync"/>) and the version's name as checked.</summary>
    private async Task<(string Card, string Version)> CardAsync(string model, string version, CancellationToken ct)
    {
        CheckModelName(model);
        version = CheckVersionName(version);
        return (await registry.GetCardAsServedAsync(model, version, ct) ?? throw await presence.WithoutAsync(model, $"Model '{model}' has no version '{version}'.", ct), version);
    }
}
