using Serverless.Core.Datasets;
using Serverless.Core.Api;

namespace Serverless.LocalHost;

/// <summary>The local host's routes of governance (<see cref="GovernanceApi"/>): spec history, aliases, archive, model card and downloads.</summary>
public static class GovernanceRoutes
{
    public static void MapGovernanceRoutes(this RouteGroupBuilder api, RouteGroupBuilder admin)
    {
        api.MapGet(ApiRoutes.Spec, (string model, HttpRequest r, GovernanceApi h, CancellationToken ct) => h.GetSpecAsync(model, r, ct))
            .Describe<SpecAnswer>("GetSpec", "The spec in force and its history", 200, 404);
        api.MapGet(ApiRoutes.Aliases, (string model, HttpRequest r, GovernanceApi h, CancellationToken ct) => h.GetAliasesAsync(model, r, ct))
            .Describe<AliasList>("GetAliases", "Each alias, where it points, and every move", 200, 404);
        api.MapGet(ApiRoutes.ModelZip, (string model, string version, HttpRequest r, GovernanceApi h, CancellationToken ct) => h.DownloadModelAsync(model, version, r, ct))
            .DescribeFile("DownloadModel", "A version's model.zip, verified against its sha256", ApiResults.ZipContentType, 400, 404, 503);
        api.MapGet(ApiRoutes.CardMarkdown, (string model, string version, HttpRequest r, GovernanceApi h, CancellationToken ct) => h.CardMarkdownAsync(model, version, r, ct))
            .DescribeFile("GetCardMarkdown", "A version's model card as markdown", ApiResults.MarkdownContentType, 400, 404);
        api.MapGet(ApiRoutes.CardHtml, (string model, string version, HttpRequest r, GovernanceApi h, CancellationToken ct) => h.CardHtmlAsync(model, version, r, ct))
            .DescribeFile("GetCardHtml", "A version's model card as an HTML page", ApiResults.HtmlContentType, 400, 404);
        api.MapGet(ApiRoutes.DatasetProfile, (string model, string datasetVersion, HttpRequest r, GovernanceApi h, CancellationToken ct) => h.DatasetProfileAsync(model, datasetVersion, r, ct))
            .Describe<DatasetProfile>("GetDatasetProfile", "A dataset version's profile: per-column statistics and histograms", 200, 404);

        admin.MapPost(ApiRoutes.Archive, (string model, string version, HttpRequest r, GovernanceApi h, CancellationToken ct) => h.ArchiveAsync(model, version, r, ct))
            .Describe<ArchiveAnswer>("ArchiveVersion", "Retire a version: never served again unless promoted with force; audited", 200, 404, 409).Body<ReasonBody>(optional: true);
    }
}
