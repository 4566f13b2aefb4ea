using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

/// <summary><c>mlops show &lt;model&gt;</c>: aliases, versions, alias history, recent runs, data and quarantined files.</summary>
public sealed class ShowCommand(IAnsiConsole console) : AsyncCommand<ModelSettings>
{
    private const int HistoryShown = 10;
    private const int RunsShown = 5;

    public override async Task<int> ExecuteAsync(CommandContext context, ModelSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var model = settings.Model;
        var view = await client.GetAsync(PipelineClient.Route(ApiRoutes.Model, model), ct, notFoundIsNull: true);
        var quarantine = await client.GetAsync(PipelineClient.Route(ApiRoutes.Quarantine, model) + "?max=20", ct, notFoundIsNull: true);
        if (view is null && quarantine is null) throw new CliException($"there is no model '{model}' on {client.Host}.");

        var aliases = view?["aliases"] as JsonObject ?? [];
        console.MarkupLineInterpolated($"[bold]{model}[/]  production: {Json.Text(aliases[ModelRegistry.Production]) ?? "none"}  staging: {Json.Text(aliases[ModelRegistry.Staging]) ?? "none"}");

        var dataset = view?["latestDataset"];
        if (dataset is null)
        {
            var spec = await ModelsCommand.SpecAsync(client, model, ct);
            console.WriteLine(Json.Text(spec?["current"]?["version"]) is { } specVersion
                ? $"latest data: none accepted yet (a spec is in force, version {specVersion}: 'mlops upload {model} <file>' sends data)"
                : "latest data: none accepted yet");
        }
        else
        {
            // Rows the upload's checks rejected are named, with where to read why.
            var rejected = Json.Number(dataset["rowsRejected"]) is > 0 and var count ? $" ({count} rejected: GET {PipelineClient.Route(ApiRoutes.Datasets, model)} says why)" : "";
            console.MarkupLineInterpolated($"latest data: {Json.Text(dataset["version"])}, {Json.Text(dataset["rows"])} rows{rejected}, label {Json.Text(dataset["label"])}, task {Json.Text(dataset["task"])}");
        }
        foreach (var line in Json.InferredLines(dataset)) console.WriteLine(line);

        var versions = view?["versions"]?.AsArray() ?? [];
        if (versions.Count > 0)
        {
            var table = new Table().Title("versions").AddColumns("version", "created", "trainer", "dataset", "status", "primary metric (test)", "aliases");
            foreach (var v in versions.Reverse())
            {
                var version = Json.Text(v?["version"]) ?? "?";
                var metric = Json.Text(v?["primaryMetric"]);
                var on = string.Join(", ", aliases.Where(a => Json.Text(a.Value) == version).Select(a => a.Key));
                table.AddRow(Markup.Escape(version), Json.When(v?["createdAt"]), Markup.Escape(Json.Text(v?["trainer"]) ?? "–"),
                    Markup.Escape(Json.Text(v?["datasetVersion"]) ?? "–"), Markup.Escape(Status(v)),
                    Markup.Escape(metric is null ? "–" : $"{metric} {Json.TestValue(v, metric)}"), Markup.Escape(on));
            }
            console.Write(table);
        }

        var history = view?["history"]?.AsArray() ?? [];
        if (history.Count > 0)
        {
            var table = new Table().Title("alias history (newest first)").AddColumns("when", "alias", "move", "from", "to", "by", "reason");
            foreach (var h in history.Reverse().Take(HistoryShown))
            {
                // The move as the history records it (promote, rollback, register, withdraw), a forced promotion said so.
                var move = (Json.Text(h?["action"]) ?? "") + (h?["forced"]?.GetValue<bool>() == true ? " (forced)" : "");
                table.AddRow(Json.When(h?["at"]), Markup.Escape(Json.Text(h?["alias"]) ?? ""), Markup.Escape(move.Length == 0 ? "–" : move), Markup.Escape(Json.Text(h?["from"]) ?? "–"),
                    Markup.Escape(Json.Text(h?["to"]) ?? "–"), Markup.Escape(Json.Text(h?["by"]) ?? ""), Markup.Escape(Json.Text(h?["reason"]) ?? ""));
            }
            console.Write(table);
        }

        var runs = await client.GetAsync(ApiRoutes.OrchestrationsOf(model) + "&top=" + RunsShown, ct, notFoundIsNull: true);
        if (runs?["runs"]?.AsArray() is { Count: > 0 } runList)
        {
            var table = new Table().Title("training runs (newest first)").AddColumns("run", "started", "status", "stage", "outcome");
            foreach (var r in runList)
            {
                table.AddRow(Markup.Escape(Json.Text(r?["instanceId"]) ?? ""), Json.When(r?["createdTime"]), Markup.Escape(Json.Text(r?["runtimeStatus"]) ?? ""),
                    Markup.Escape(Json.Text(r?["customStatus"]?["stage"]) ?? "–"),
                    Markup.Escape(Outcome(r)));
            }
            console.Write(table);
        }

        var files = quarantine?["files"]?.AsArray() ?? [];
        if (files.Count == 0)
        {
            console.WriteLine("quarantined files: none");
        }
        else
        {
            var table = new Table().Title("quarantined files (newest first)").AddColumns("when", "file", "reason");
            foreach (var f in files)
            {
                var codes = string.Join(", ", f?["reasonCodes"]?.AsArray().Select(Json.Text) ?? []);
                table.AddRow(Json.When(f?["quarantinedAt"]), Markup.Escape(Json.Text(f?["blob"]) ?? ""), Markup.Escape($"{codes}: {Json.Text(f?["reason"])}"));
            }
            console.Write(table);
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// A run's outcome: the training output's status; a terminated run's output is the reason it was given, a string;
    /// a failed run has its error instead.
    /// </summary>
    /// <summary>A version's status, and that its stored bytes failed their check on the host that answered (it is not served there).</summary>
    private static string Status(JsonNode? version) =>
        (Json.Text(version?["status"]) ?? "–") +
        (version?[System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(nameof(VersionSummary.IntegrityFailed))]?.GetValue<bool>() == true ? " (integrity check failed)" : "");

    public static string Outcome(JsonNode? run) => run?["output"] switch
    {
        JsonObject output => Json.Text(output["status"]) ?? "–",
        JsonValue reason => $"{Json.Text(run?["runtimeStatus"])?.ToLowerInvariant() ?? "ended"}: {Json.Text(reason)}",
        _ => Json.Text(run?["failureDetails"]?["errorMessage"]) ?? "–",
    };
}
