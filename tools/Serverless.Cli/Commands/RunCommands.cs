using System.ComponentModel;
using Serverless.Core.Api;
using Serverless.Core.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

public sealed class TrainSettings : ModelAdminSettings
{
    [CommandOption("--dataset <VERSION>")]
    [Description("The dataset version to train on (ds- and 16 hex digits, as 'mlops show' prints it). Default: the latest.")]
    public string? Dataset { get; set; }

    public override ValidationResult Validate() => Dataset is { } dataset && !DatasetVersionNames.IsValid(dataset)
        ? ValidationResult.Error($"'{dataset}' is not a dataset version: {DatasetVersionNames.Rule}.")
        : base.Validate();
}

/// <summary><c>mlops train &lt;model&gt;</c>: starts a training run on the model's data (audited with the reason).</summary>
public sealed class TrainCommand(IAnsiConsole console) : AsyncCommand<TrainSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TrainSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var answer = await client.PostAdminAsync(PipelineClient.Route(ApiRoutes.Train, settings.Model),
            settings.Dataset is null && settings.Reason is null ? null : new { DatasetVersion = settings.Dataset, settings.Reason }, ct);
        var id = Json.Text(answer?["id"]) ?? throw new CliException($"the host started a run but did not name it: {answer?.ToJsonString()}");
        console.MarkupLineInterpolated($"{settings.Model}: training run {id} started; follow it with 'mlops show {settings.Model}' or GET {ApiRoutes.OrchestrationPath(id)}");
        return ExitCodes.Ok;
    }
}

/// <summary><c>mlops terminate &lt;run&gt;</c>: stops a training run; a version it registered and no one decided on is rejected.</summary>
public sealed class TerminateCommand(IAnsiConsole console) : AsyncCommand<DecisionSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DecisionSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var answer = await client.PostAdminAsync(PipelineClient.Route(ApiRoutes.Terminate, settings.Run), settings.Reason is null ? null : new { settings.Reason }, ct);
        var version = Json.Text(answer?["version"]) is { } v ? $"; its version {v} is {Json.Text(answer?["versionStatus"]) ?? "unchanged"}" : "";
        console.MarkupLineInterpolated($"{settings.Run}: terminated{version}");
        if (Json.Text(answer?["note"]) is { } note) console.MarkupLineInterpolated($"{note}");
        return ExitCodes.Ok;
    }
}

/// <summary><c>mlops drift &lt;model&gt;</c>: checks the model's live inputs against its training data now, and prints the verdict.</summary>
public sealed class DriftCommand(IAnsiConsole console) : AsyncCommand<ModelAdminSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ModelAdminSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var report = await client.PostAdminAsync(PipelineClient.Route(ApiRoutes.DriftCheck, settings.Model), settings.Reason is null ? null : new { settings.Reason }, ct);
        console.MarkupLineInterpolated($"{settings.Model}: {Json.Text(report?["status"]) ?? "checked"}: {Json.Text(report?["message"]) ?? ""}");
        // What the message cannot hold: why each drifted feature drifted, where the report says more than its statistic.
        foreach (var feature in report?["features"]?.AsArray() ?? [])
        {
            if (feature?["drifted"]?.GetValue<bool>() == true && Json.Text(feature["note"]) is { } note) console.MarkupLineInterpolated($"  {note}");
        }
        if (report?["retraining"] is { } retraining)
        {
            var started = retraining["started"]?.GetValue<bool>() == true;
            console.MarkupLineInterpolated($"retraining {(started ? $"started as {Json.Text(retraining["instanceId"])}" : "not started")}: {Json.Text(retraining["reason"]) ?? ""}");
        }
        return ExitCodes.Ok;
    }
}
