using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

/// <summary><c>mlops models</c>: every model with its production and staging versions and the production version's primary metric.</summary>
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
        var table = new Table().AddColumns("model", "production", "staging", "versions", "primary metric (test)");
        foreach (var model in models)
        {
            var name = Json.Text(model?["model"]) ?? "?";
            var view = await client.GetAsync(PipelineClient.Route(ApiRoutes.Model, name), ct, notFoundIsNull: true);
            var aliases = view?["aliases"] as JsonObject;
            var metric = Json.Text(model?["primaryMetric"]);
            table.AddRow(
                Markup.Escape(name),
                Markup.Escape(Json.Text(model?["production"]) ?? "–"),
                Markup.Escape(Json.Text(aliases?[ModelRegistry.Staging]) ?? "–"),
                Markup.Escape(Json.Text(model?["versions"]) ?? "0"),
                Markup.Escape(metric is null ? "–" : $"{metric} {Json.Metric(Json.Number(model?["testMetrics"]?[metric]))}"));
        }
        console.Write(table);
        return ExitCodes.Ok;
    }
}
