using System.ComponentModel;
using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

public sealed class PromoteSettings : ModelAdminSettings
{
    [CommandArgument(1, "<version>")]
    [Description("The version to put in production, e.g. v2.")]
    public string Version { get; set; } = "";

    public override ValidationResult Validate() =>
        !ModelSelector.IsVersion(Version) ? ValidationResult.Error($"'{Version}' is not a version; versions are named v1, v2, ...") : base.Validate();
}

/// <summary><c>mlops promote &lt;model&gt; &lt;version&gt;</c>: moves the production alias (audited).</summary>
public sealed class PromoteCommand(IAnsiConsole console) : AsyncCommand<PromoteSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, PromoteSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var answer = await client.PostAdminAsync(PipelineClient.Route(ApiRoutes.Promote, settings.Model),
            new { settings.Version, Reason = settings.Reason ?? "promoted from the command line" }, ct);
        console.MarkupLineInterpolated($"{settings.Model}: production is {Json.Text(answer?["aliases"]?[ModelRegistry.Production]) ?? settings.Version}");
        return ExitCodes.Ok;
    }
}
