using Serverless.Core.Api;

namespace Serverless.LocalHost;

/// <summary>The local host's routes of governance (<see cref="GovernanceApi"/>): spec history, aliases, archive, model card and downloads.</summary>
public static class GovernanceRoutes
{
    public static void MapGovernanceRoutes(this RouteGroupBuilder api, RouteGroupBuilder admin)
    {
        api.MapGet(ApiRoutes.Spec, (string model, GovernanceApi h, CancellationToken ct) => h.GetSpecAsync(model, ct));
        api.MapGet(ApiRoutes.Aliases, (string model, GovernanceApi h, CancellationToken ct) => h.GetAliasesAsync(model, ct));
        api.MapGet(ApiRoutes.ModelZip, (string model, string version, GovernanceApi h, CancellationToken ct) => h.DownloadModelAsync(model, version, ct));
        api.MapGet(ApiRoutes.CardMarkdown, (string model, string version, GovernanceApi h, CancellationToken ct) => h.CardMarkdownAsync(model, version, ct));
        api.MapGet(ApiRoutes.CardHtml, (string model, string version, GovernanceApi h, CancellationToken ct) => h.CardHtmlAsync(model, version, ct));
        api.MapGet(ApiRoutes.DatasetProfile, (string model, string datasetVersion, GovernanceApi h, CancellationToken ct) => h.DatasetProfileAsync(model, datasetVersion, ct));

        admin.MapPost(ApiRoutes.Archive, (string model, string version, HttpRequest r, GovernanceApi h, CancellationToken ct) => h.ArchiveAsync(model, version, r, ct));
    }
}
