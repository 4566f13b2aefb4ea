using System.ComponentModel;
using Serverless.Core.Api;
using Serverless.Orchestrations;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

public sealed class DecisionSettings : AdminSettings
{
    [CommandArgument(0, "<run>")]
    [Description("The training run's instance id, as 'mlops upload --wait' or 'mlops show' print it (e.g. train-taxi-ds-0123456789abcdef).")]
    public string Run { get; set; } = "";

    public override ValidationResult Validate() => !InstanceIds.IsValid(Run)
        ? ValidationResult.Error($"'{Run}' is not a run id: {InstanceIds.Rule}.")
        : base.Validate();
}

/// <summary><c>mlops approve &lt;run&gt;</c>: lets the version waiting at the approval gate be promoted.</summary>
public sealed class ApproveCommand(IAnsiConsole console) : AsyncCommand<DecisionSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, DecisionSettings settings, CancellationToken ct) =>
        DecisionCommand.SendAsync(console, settings, ApiRoutes.Approve, "approved", ct);
}

/// <summary><c>mlops reject &lt;run&gt;</c>: refuses the version waiting at the approval gate.</summary>
public sealed class RejectCommand(IAnsiConsole console) : AsyncCommand<DecisionSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, DecisionSettings settings, CancellationToken ct) =>
        DecisionCommand.SendAsync(console, settings, ApiRoutes.Reject, "rejected", ct);
}

internal static class DecisionCommand
{
    public static async Task<int> SendAsync(IAnsiConsole console, DecisionSettings settings, string route, string decision, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var answer = await client.PostAdminAsync(PipelineClient.Route(route, settings.Run), settings.Reason is null ? null : new { settings.Reason }, ct);
        console.MarkupLineInterpolated($"{settings.Run}: {decision}; follow it with 'mlops show' or GET {ApiRoutes.OrchestrationPath(settings.Run)}");
        if (Json.Text(answer?["note"]) is { } note) console.MarkupLineInterpolated($"{note}");
        return ExitCodes.Ok;
    }
}
