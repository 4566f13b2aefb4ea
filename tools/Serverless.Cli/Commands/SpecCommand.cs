using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

public sealed class SpecSettings : ModelAdminSettings
{
    [CommandOption("--set <FILE>")]
    [Description("A model spec (model.json) to put in force; checked in full by the host, which names every bad field. Without it, the spec in force and its history are printed.")]
    public string? Set { get; set; }

    public override ValidationResult Validate() => Set is { } file && !File.Exists(file)
        ? ValidationResult.Error($"there is no file '{file}'.")
        : base.Validate();
}

/// <summary><c>mlops spec &lt;model&gt;</c>: prints the spec in force and its history; with <c>--set</c>, puts a new one in force.</summary>
public sealed class SpecCommand(IAnsiConsole console) : AsyncCommand<SpecSettings>
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public override async Task<int> ExecuteAsync(CommandContext context, SpecSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var route = PipelineClient.Route(ApiRoutes.Spec, settings.Model);
        JsonObject? put = null;
        if (settings.Set is { } file)
        {
            var query = settings.Reason is { } reason ? $"?{PipelineApi.ReasonParameter}={Uri.EscapeDataString(reason)}" : "";
            try
            {
                put = await client.PutAdminJsonAsync(route + query, await File.ReadAllTextAsync(file, ct), ct);
            }
            catch (CliException e) when (e.Status == System.Net.HttpStatusCode.BadRequest)
            {
                // The host's problems name fields of the spec; which file they are in is the command line's to say.
                throw new CliException($"{file}: {e.Message}", e.ExitCode, e.Status);
            }
        }
        var spec = await client.GetAsync(route, ct);
        if (spec?["current"] is not JsonObject current)
        {
            console.MarkupLineInterpolated($"{settings.Model}: no spec; everything is inferred from the data (see the README's \"Model spec\")");
            return ExitCodes.Ok;
        }
        var set = settings.Set is null ? "in force" : put?[nameof(SpecPutAnswer.Unchanged).ToLowerInvariant()]?.GetValue<bool>() == true ? "in force already (the same spec: no new version)" : "now in force";
        console.MarkupLineInterpolated($"{settings.Model}: spec version {Json.Text(current["version"])} {set}, set {Json.When(current["setAt"])} by {Json.Text(current["by"])} from {Json.Text(current["source"])}{(Json.Text(current["reason"]) is { } why ? $": {why}" : "")}");
        console.WriteLine(current["spec"]?.ToJsonString(Indented) ?? "{}");
        var history = (spec["history"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (history.Count > 1)
        {
            console.MarkupLine("history:");
            foreach (var version in history)
            {
                console.MarkupLineInterpolated($"  version {Json.Text(version["version"])}: {Json.When(version["setAt"])} by {Json.Text(version["by"])} from {Json.Text(version["source"])}{(Json.Text(version["reason"]) is { } said ? $": {said}" : "")}");
            }
        }
        if (Json.Text(put?[nameof(SpecPutAnswer.Note).ToLowerInvariant()]) is { } note) console.MarkupLineInterpolated($"[yellow]note:[/] {note}");
        return ExitCodes.Ok;
    }
}
