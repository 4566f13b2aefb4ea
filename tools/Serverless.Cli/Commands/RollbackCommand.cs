using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

/// <summary><c>mlops rollback &lt;model&gt;</c>: production goes back to the version before the current one (audited).</summary>
public sealed class RollbackCommand(IAnsiConsole console) : AsyncCommand<ModelAdminSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ModelAdminSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var answer = await client.PostAdminAsync(PipelineClient.Route(ApiRoutes.Rollback, settings.Model),
            new { Reason = settings.Reason ?? "rolled back from the command line" }, ct);
        var aliases = answer?["aliases"] as JsonObject;
        console.MarkupLineInterpolated($"{settings.Model}: rolled back; production is {Json.Text(aliases?[ModelRegistry.Production]) ?? "unknown"}");
        return ExitCodes.Ok;
    }
}
