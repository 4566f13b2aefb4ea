using Serverless.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli;

/// <summary>
/// The command line, parsed by Spectre.Console.Cli: strict parsing (an unknown option is an error), help for every
/// command and option, and errors printed as one message with a non-zero exit code, never a stack trace.
/// </summary>
public static class MlopsApp
{
    public const string Name = "mlops";

    private const int RedirectedWidth = 1000;

    /// <summary>Runs the command line on <paramref name="console"/> (the terminal when null).</summary>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole? console = null)
    {
        if (console is null)
        {
            console = AnsiConsole.Console;
            // Redirected output is read by programs and people's tools, not a terminal of some width: lines stay whole.
            if (Console.IsOutputRedirected) console.Profile.Width = RedirectedWidth;
        }
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (MissingValue(args) is { } option)
            {
                // The parser would take the next option's place, or nothing, as the value (and a reason would reach the audit so).
                console.MarkupLineInterpolated($"[red]{Name}: {option} needs a value, as in {option} \"...\".[/]");
                console.MarkupLineInterpolated($"Try '{Name} <command> --help'.");
                return ExitCodes.Usage;
            }
            var exit = await Create(console).RunAsync(args, cancel.Token);
            // No command at all prints the help, and is still not a command that did what was asked.
            return args.Length == 0 ? ExitCodes.Usage : exit;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    public static CommandApp Create(IAnsiConsole console)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName(Name);
            config.ConfigureConsole(console);
            config.UseStrictParsing();
            config.SetExceptionHandler((exception, _) => Report(console, exception));

            config.AddCommand<UploadCommand>("upload")
                .WithDescription("Drop a data file (and optionally a spec) into the model's drop zone; with --wait, follow it to a served model.")
                .WithExample("upload", "taxi", "taxi-fare-train.csv", "--label", "fare_amount", "--task", "regression", "--wait");
            config.AddCommand<ModelsCommand>("models")
                .WithAlias("list")
                .WithDescription("List the models with their production and staging versions and primary metric.")
                .WithExample("models");
            config.AddCommand<ShowCommand>("show")
                .WithDescription("Show one model: aliases, versions, alias history, latest dataset and quarantined files.")
                .WithExample("show", "taxi");
            config.AddCommand<PromoteCommand>("promote")
                .WithDescription("Move the production alias to a version (admin key required when the host has one).")
                .WithExample("promote", "taxi", "v2", "--reason", "\"better on last week's data\"");
            config.AddCommand<RollbackCommand>("rollback")
                .WithDescription("Move production back to the version it held before (admin key required when the host has one).")
                .WithExample("rollback", "taxi", "--reason", "\"complaints about fares\"");
            config.AddCommand<ArchiveCommand>("archive")
                .WithDescription("Archive a version: it is never served again unless promoted with --force (admin key required when the host has one).")
                .WithExample("archive", "taxi", "v1", "--reason", "\"trained on the wrong month\"");
            config.AddCommand<RunsCommand>("runs")
                .WithDescription("List the model's candidate runs: trainer, status, validation metrics and the version each became.")
                .WithExample("runs", "taxi", "--sort", "rmse");
            config.AddCommand<RegisterCommand>("register")
                .WithDescription("Register a candidate run as a new version by hand (admin key required when the host has one).")
                .WithExample("register", "taxi", "train-taxi-ds-0123456789abcdef-1a2b3c4d-c00", "--reason", "\"faster to serve\"");
            config.AddCommand<ApproveCommand>("approve")
                .WithDescription("Approve a version waiting at the manual approval gate of its training run.")
                .WithExample("approve", "train-taxi-ds-0123456789abcdef");
            config.AddCommand<RejectCommand>("reject")
                .WithDescription("Reject a version waiting at the manual approval gate of its training run.")
                .WithExample("reject", "train-taxi-ds-0123456789abcdef", "--reason", "\"fails the fairness review\"");
            config.AddCommand<TrainCommand>("train")
                .WithDescription("Start a training run on the model's latest data, or on --dataset (admin key required when the host has one).")
                .WithExample("train", "taxi", "--reason", "\"new trainers in the spec\"");
            config.AddCommand<TerminateCommand>("terminate")
                .WithDescription("Stop a training run; a version it registered and no one decided on is rejected.")
                .WithExample("terminate", "train-taxi-ds-0123456789abcdef", "--reason", "\"wrong data\"");
            config.AddCommand<DriftCommand>("drift")
                .WithDescription("Check the model's logged live inputs against its training data now, and print the verdict (it may start retraining).")
                .WithExample("drift", "taxi", "--reason", "\"after the pricing change\"");
            config.AddCommand<SpecCommand>("spec")
                .WithDescription("Print the model's spec in force and its history; with --set, put a new spec in force (admin key required when the host has one).")
                .WithExample("spec", "taxi", "--set", "model.json", "--reason", "\"add LightGbm\"");
            config.AddCommand<AuditCommand>("audit")
                .WithDescription("Print the newest audit records, oldest first; with --follow, keep printing new ones.")
                .WithExample("audit", "--model", "taxi", "--follow");
        });
        return app;
    }

    /// <summary>The settings of each command, to suggest the option a misspelt one was meant to be.</summary>
    private static readonly Type[] SettingsTypes =
        [typeof(UploadSettings), typeof(HostSettings), typeof(ModelSettings), typeof(PromoteSettings), typeof(ModelAdminSettings), typeof(DecisionSettings), typeof(AuditSettings), typeof(TrainSettings), typeof(SpecSettings), typeof(VersionAdminSettings), typeof(RegisterSettings), typeof(RunsSettings)];

    private static IEnumerable<CommandOptionAttribute> Options => SettingsTypes
        .SelectMany(t => t.GetProperties())
        .SelectMany(p => p.GetCustomAttributes(typeof(CommandOptionAttribute), inherit: true).Cast<CommandOptionAttribute>());

    private static IEnumerable<string> Spellings(CommandOptionAttribute option) => option.LongNames.Select(n => "--" + n).Concat(option.ShortNames.Select(n => "-" + n));

    /// <summary>An option that takes a value given without one: last on the line, or followed by another option.</summary>
    internal static string? MissingValue(IReadOnlyList<string> args)
    {
        var valued = Options.Where(o => o.ValueName is not null && !o.ValueIsOptional).SelectMany(Spellings).ToHashSet(StringComparer.Ordinal);
        var every = Options.SelectMany(Spellings).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            if (valued.Contains(args[i]) && (i == args.Count - 1 || every.Contains(args[i + 1]))) return args[i];
        }
        return null;
    }

    private static string? SuggestOption(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, "^Unknown option '([^']+)'");
        if (!match.Success) return null;
        var known = Options
            .SelectMany(o => o.LongNames)
            .Distinct()
            .ToList();
        var typed = match.Groups[1].Value;
        // An option of another command, typed right: suggesting it back would say nothing.
        if (known.Contains(typed)) return $"'--{typed}' is an option of other commands, not of this one.";
        return UploadSettings.Suggest(typed, known) is { } closest ? $"Did you mean '--{closest}'?" : null;
    }

    /// <summary>One line per failure: what went wrong and what to try; the exit code says which kind it was.</summary>
    /// <summary>The parser's "Failed to convert 'abc' to Int32." said without .NET's type names.</summary>
    internal static string InWords(string message) => System.Text.RegularExpressions.Regex.Replace(message, @"Failed to convert '(.*)' to (\w+)\.", m =>
        $"'{m.Groups[1].Value}' is not {m.Groups[2].Value switch
        {
            "Int32" or "Int64" or "Int16" => "a whole number",
            "Double" or "Single" or "Decimal" => "a number",
            "Boolean" => "true or false",
            "TimeSpan" => "a duration such as 00:05:00",
            _ => "a value this option takes",
        }}; see the option's help.");

    private static int Report(IAnsiConsole console, Exception exception)
    {
        switch (exception)
        {
            case CommandAppException parse:
                if (parse.Pretty is { } pretty) console.Write(pretty);
                else console.MarkupLineInterpolated($"[red]{Name}: {InWords(parse.Message)}[/]");
                if (SuggestOption(parse.Message) is { } hint) console.MarkupLineInterpolated($"{hint}");
                console.MarkupLineInterpolated($"Try '{Name} --help', or '{Name} <command> --help'.");
                return ExitCodes.Usage;
            case CliException cli:
                console.MarkupLineInterpolated($"[red]{Name}: {cli.Message}[/]");
                return cli.ExitCode;
            case OperationCanceledException:
                console.MarkupLine($"{Name}: stopped.");
                return ExitCodes.Error;
            default:
                console.MarkupLineInterpolated($"[red]{Name}: {exception.Message}[/]");
                return ExitCodes.Error;
        }
    }
}
