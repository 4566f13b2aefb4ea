using System.ComponentModel;
using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

public sealed class PromoteSettings : VersionAdminSettings
{
    [CommandOption("--force")]
    [Description("Promote a version that failed its gate, waits for approval or was archived (audited as forced); say why with --reason.")]
    public bool Force { get; set; }

    public override ValidationResult Validate() => Force && string.IsNullOrWhiteSpace(Reason)
        ? ValidationResult.Error("--force needs --reason \"...\": a forced promotion overrides a gate, an approval or an archive, and the audit keeps why.")
        : base.Validate();
}

/// <summary><c>mlops promote &lt;model&gt; &lt;version&gt;</c>: moves the production alias (audited).</summary>
public sealed class PromoteCommand(IAnsiConsole console) : AsyncCommand<PromoteSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, PromoteSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var answer = await client.PostAdminAsync(PipelineClient.Route(ApiRoutes.Promote, settings.Model),
            new { settings.Version, Reason = settings.Reason ?? "promoted from the command line", Force = settings.Force ? true : (bool?)null }, ct);
        var production = Json.Text(answer?["aliases"]?[ModelRegistry.Production]) ?? settings.Version;
        var from = Json.Text(answer?["from"]);
        // Says what moved: from which version, forced and why, or that production already was there.
        var move = answer?["unchanged"]?.GetValue<bool>() == true ? " (it already was; nothing moved)" : from is null ? "" : $" (was {from})";
        var forced = Json.Text(answer?["forcedBecause"]) is { } because ? $"; forced: {because}" : "";
        console.MarkupLineInterpolated($"{settings.Model}: production is {production}{move}{forced}");
        return ExitCodes.Ok;
    }
}
