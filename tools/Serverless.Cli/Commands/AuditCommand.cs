using System.ComponentModel;
using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

public sealed class AuditSettings : HostSettings
{
    public const int MaxRecords = 1000;

    [CommandOption("--model <MODEL>")]
    [Description("Only this model's records.")]
    public string? Model { get; set; }

    [CommandOption("-n|--max <N>")]
    [Description("How many of the newest records to print first (1 to 1000).")]
    [DefaultValue(20)]
    public int Max { get; set; } = 20;

    [CommandOption("-f|--follow")]
    [Description("Keep printing new records as they are written, until Ctrl-C.")]
    public bool Follow { get; set; }

    [CommandOption("--interval <SECONDS>")]
    [Description("With --follow, seconds between looks (0.5 to 60).")]
    [DefaultValue(2.0)]
    public double Interval { get; set; } = 2;

    public override ValidationResult Validate()
    {
        if (Model is not null && !ModelNames.IsValid(Model)) return ValidationResult.Error($"'{Model}' is not a valid model name: {ModelNames.Rule}.");
        if (Max is < 1 or > MaxRecords) return ValidationResult.Error($"-n (--max) must be from 1 to {MaxRecords}, not {Max}.");
        if (Interval is < 0.5 or > 60 || double.IsNaN(Interval)) return ValidationResult.Error($"--interval must be from 0.5 to 60 seconds, not {Interval}.");
        return base.Validate();
    }
}

/// <summary><c>mlops audit</c>: the newest audit records, oldest first, and with <c>--follow</c> every new one after them.</summary>
public sealed class AuditCommand(IAnsiConsole console) : AsyncCommand<AuditSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AuditSettings settings, CancellationToken ct)
    {
        using var client = settings.CreateClient();
        var query = $"/{ApiRoutes.Prefix}/{ApiRoutes.Audit}?max={settings.Max}" + (settings.Model is null ? "" : "&model=" + Uri.EscapeDataString(settings.Model));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var first = await ReadAsync(client, query, ct);
        var table = new Table().AddColumns("when", "action", "model", "actor", "reason", "details");
        foreach (var record in first.AsEnumerable().Reverse())
        {
            seen.Add(Key(record));
            table.AddRow(Json.When(record["at"]), Markup.Escape(Json.Text(record["action"]) ?? ""), Markup.Escape(Json.Text(record["model"]) ?? ""),
                Markup.Escape(Json.Text(record["actor"]) ?? ""), Markup.Escape(Json.Text(record["reason"]) ?? ""), Markup.Escape(Json.DetailsLine(record["details"])));
        }
        if (first.Count == 0)
        {
            // No record of a model can mean a misspelt name: say so, as show does, rather than an empty log and exit 0.
            var exists = settings.Model is null || await client.GetAsync(PipelineClient.Route(ApiRoutes.Model, settings.Model), ct, notFoundIsNull: true) is not null;
            if (!exists && !settings.Follow) throw new CliException($"there is no model '{settings.Model}' on {client.Host}, so it has no audit records (mlops models lists them).");
            console.WriteLine(exists ? "No audit records yet." : $"No audit records yet: there is no model '{settings.Model}' on {client.Host} yet.");
        }
        else console.Write(table);
        if (!settings.Follow) return ExitCodes.Ok;

        console.MarkupLine("[grey]following; Ctrl-C stops[/]");
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(settings.Interval), ct);
                var fresh = (await ReadAsync(client, query, ct)).Where(r => seen.Add(Key(r))).Reverse();
                foreach (var record in fresh)
                {
                    console.MarkupLineInterpolated($"{Json.When(record["at"])}  {Json.Text(record["action"])}  {Json.Text(record["model"])}  {Json.Text(record["actor"])}  {Json.Text(record["reason"])}  {Json.DetailsLine(record["details"])}");
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
    }

    private static async Task<List<JsonObject>> ReadAsync(PipelineClient client, string query, CancellationToken ct) =>
        [.. ((await client.GetAsync(query, ct))?["records"]?.AsArray() ?? []).OfType<JsonObject>()];

    private static string Key(JsonObject record) => record.ToJsonString();
}
