using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

/// <summary><c>mlops archive &lt;model&gt; &lt;version&gt;</c>: the version is never served again unless promoted with --force (audited).</summary>
public sealed class ArchiveCommand(IAnsiConsole console) : AsyncCommand<VersionAdminSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, VersionAdminSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var answer = await client.PostAdminAsync(PipelineClient.Route(ApiRoutes.Archive, settings.Model, settings.Version),
            settings.Reason is null ? null : new { settings.Reason }, ct);
        var archived = answer?["archived"];
        var when = $"{Json.When(archived?["at"])} by {Json.Text(archived?["by"]) ?? "unknown"}{(Json.Text(archived?["reason"]) is { } why ? $": {why}" : "")}";
        var already = answer?["alreadyArchived"]?.GetValue<bool>() == true;
        console.MarkupLineInterpolated($"{settings.Model}: {settings.Version} {(already ? "was archived already" : "archived")} ({when})");
        var aliases = (answer?["aliases"] as JsonObject ?? []).OrderBy(a => a.Key != ModelRegistry.Production).ThenBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => $"{a.Key} {Json.Text(a.Value)}").ToList();
        console.MarkupLineInterpolated($"aliases: {(aliases.Count == 0 ? "none" : string.Join(", ", aliases))}");
        return ExitCodes.Ok;
    }
}

public sealed class RegisterSettings : ModelAdminSettings
{
    [CommandArgument(1, "<run-id>")]
    [Description("The candidate run to register, as 'mlops runs' prints it.")]
    public string RunId { get; set; } = "";

    public override ValidationResult Validate() => !RunRegistrationApi.IsRunId(RunId)
        ? ValidationResult.Error($"'{RunId}' is not a run id: {RunRegistrationApi.RunIdRule}.")
        : base.Validate();
}

/// <summary><c>mlops register &lt;model&gt; &lt;run-id&gt;</c>: registers a candidate run as a new version by hand (audited).</summary>
public sealed class RegisterCommand(IAnsiConsole console) : AsyncCommand<RegisterSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RegisterSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var manifest = await client.PostAdminAsync(PipelineClient.Route(ApiRoutes.RegisterRun, settings.Model, settings.RunId),
            settings.Reason is null ? null : new { settings.Reason }, ct);
        var version = Json.Text(manifest?["version"]) ?? throw new CliException($"the host registered the run but did not name the version: {manifest?.ToJsonString()}");
        // A version registered by hand passed no gate: promoting it takes --force, and the audit keeps why.
        console.MarkupLineInterpolated($"{settings.Model}: run {settings.RunId} registered as {version} ({Json.Text(manifest?["trainer"]) ?? "unknown trainer"}); promote it with 'mlops promote {settings.Model} {version} --force --reason <why>' (it passed no quality gate)");
        return ExitCodes.Ok;
    }
}

public sealed class RunsSettings : ModelSettings
{
    [CommandOption("--sort <METRIC>")]
    [Description("Best first by this validation metric (any case), e.g. rmse or auc. Default: newest first.")]
    public string? Sort { get; set; }

    [CommandOption("--top <N>")]
    [Description("How many runs to print (default 20).")]
    public int Top { get; set; } = 20;

    public override ValidationResult Validate() => Top is < 1 or > PipelineApi.MaxRunsPage
        ? ValidationResult.Error($"--top takes 1 to {PipelineApi.MaxRunsPage}.")
        : base.Validate();
}

/// <summary><c>mlops runs &lt;model&gt;</c>: the model's candidate runs (experiment runs): trainer, parameters, validation metrics, and the version each became.</summary>
public sealed class RunsCommand(IAnsiConsole console) : AsyncCommand<RunsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RunsSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var query = $"?{PipelineApi.TopParameter}={settings.Top.ToString(CultureInfo.InvariantCulture)}" +
                    (settings.Sort is { } sort ? $"&{PipelineApi.SortParameter}={Uri.EscapeDataString(sort)}" : "");
        var list = await client.GetAsync(PipelineClient.Route(ApiRoutes.Runs, settings.Model) + query, ct);
        var runs = (list?["runs"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var total = list?["total"]?.GetValue<int>() ?? runs.Count;
        if (runs.Count == 0)
        {
            console.MarkupLineInterpolated($"{settings.Model}: no candidate runs yet");
            return ExitCodes.Ok;
        }
        var order = Json.Text(list?["sortedBy"]) is { } by ? $"best first by {by}" : "newest first";
        var table = new Table().Title($"candidate runs ({order}; {runs.Count} of {total})").AddColumns("run id", "started", "trainer", "status", "validation metrics", "version");
        foreach (var run in runs)
        {
            var metrics = (run[ApiJson.RunMetricsName] as JsonObject ?? []).Select(m => $"{m.Key} {Json.Metric(Json.Number(m.Value))}");
            var status = Json.Text(run["status"]) ?? "";
            if (Json.Text(run["error"]) is { } error) status += $": {error}";
            table.AddRow(Markup.Escape(Json.Text(run["runId"]) ?? ""), Json.When(run["startedAt"]), Markup.Escape(Json.Text(run["trainer"]) ?? ""),
                Markup.Escape(status), Markup.Escape(string.Join(", ", metrics)), Markup.Escape(Json.Text(run["version"]) ?? "–"));
        }
        console.Write(table);
        console.MarkupLineInterpolated($"register one as a version with 'mlops register {settings.Model} <run id>'");
        return ExitCodes.Ok;
    }
}
