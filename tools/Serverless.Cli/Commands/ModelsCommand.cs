using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

/// <summary>
/// <c>mlops models</c>: every model with its production and staging versions and the production version's primary
/// metric; a model without a version says what it has instead (data, or only quarantined files).
/// </summary>
public sealed class ModelsCommand(IAnsiConsole console) : AsyncCommand<HostSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, HostSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var list = await client.GetAsync(PipelineClient.Route(ApiRoutes.Models), ct);
        var models = list?["models"]?.AsArray() ?? [];
        if (models.Count == 0)
        {
            console.WriteLine("No models yet: upload data with 'mlops upload <model> <file>'.");
            return ExitCodes.Ok;
        }
        var table = new Table().AddColumns("model", "production", "staging", "versions", "primary metric (test)", "without a version");
        foreach (var model in models)
        {
            var name = Json.Text(model?["model"]) ?? "?";
            var versions = Json.Number(model?["versions"]) ?? 0;
            // Only a model without a version is looked at further, to say what it has instead.
            if (name == DropZoneNames.InvalidFolder)
            {
                // Files dropped under a folder that is no model's name: quarantined, and listed by their own route.
                table.AddRow(Markup.Escape(name), "–", "–", "0", "–",
                    Markup.Escape($"files dropped under folders that are no valid model name, quarantined: GET {PipelineClient.Route(ApiRoutes.Quarantine, name)}"));
                continue;
            }
            var view = versions > 0 ? null : await client.GetAsync(PipelineClient.Route(ApiRoutes.Model, name), ct, notFoundIsNull: true);
            var metric = Json.Text(model?["primaryMetric"]);
            table.AddRow(
                Markup.Escape(name),
                Markup.Escape(Json.Text(model?["production"]) ?? "–"),
                Markup.Escape(Json.Text(model?[ModelRegistry.Staging]) ?? "–"),
                Markup.Escape((Json.Text(model?["versions"]) ?? "0") + (Json.Number(model?["pendingApproval"]) is > 0 and var pending ? $" ({pending} awaiting approval)" : "")),
                Markup.Escape(metric is null ? "–" : $"{metric} {Json.Metric(Json.Number(model?["testMetrics"]?[metric]))}"),
                Markup.Escape(versions > 0 ? "" : await WithoutVersionAsync(client, name, view, ct)));
        }
        console.Write(table);
        return ExitCodes.Ok;
    }

    /// <summary>What a model without a registered version has, from its view (its spec only when it has nothing else), and where to read more.</summary>
    private static async Task<string> WithoutVersionAsync(PipelineClient client, string name, JsonNode? view, CancellationToken ct)
    {
        if (Json.Text(view?["latestDataset"]?["version"]) is { } dataset) return $"data {dataset}, no version yet: 'mlops show {name}' says why";
        var refused = (view?["quarantined"] as JsonArray)?.Count ?? 0;
        if (refused > 0) return $"{refused} file(s) quarantined: 'mlops show {name}' says why";
        var spec = view is null ? null : await SpecAsync(client, name, ct);
        return Json.Text(spec?["current"]?["version"]) is { } version ? $"a spec (version {version}), no data yet: 'mlops upload {name} <file>'" : "";
    }

    /// <summary>The model's spec answer, for a model with neither data nor a version (the view does not carry it).</summary>
    internal static Task<JsonObject?> SpecAsync(PipelineClient client, string name, CancellationToken ct) =>
        client.GetAsync(PipelineClient.Route(ApiRoutes.Spec, name), ct, notFoundIsNull: true);
}
