using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Serverless.Cli.Upload;
using Serverless.Core.Api;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

public sealed class UploadSettings : ModelSettings
{
    /// <summary>The task names as the spec spells them (regression, binary, multiclass).</summary>
    public static readonly IReadOnlyList<string> TaskNames = [.. Enum.GetNames<TaskKind>().Select(n => JsonNamingPolicy.CamelCase.ConvertName(n))];

    [CommandArgument(1, "<file>")]
    [Description("The data file: .csv, .tsv or .txt (delimiter sniffed), optionally .gz.")]
    public string File { get; set; } = "";

    [CommandOption("--label <COLUMN>")]
    [Description("The column to predict. Default: the column named 'label' (any case), else the last column. Without --spec it changes only the label of the spec in force.")]
    public string? Label { get; set; }

    [CommandOption("--task <TASK>")]
    [Description("regression, binary or multiclass. Default: inferred from the label's values. Without --spec it changes only the task of the spec in force.")]
    public string? Task { get; set; }

    [CommandOption("--spec <FILE>")]
    [Description("A model spec (model.json) uploaded with the data; --label and --task override its fields.")]
    public string? Spec { get; set; }

    [CommandOption("--connection <CONNECTION STRING>")]
    [Description("The storage account's connection string. Default: $Pipeline__Storage__ConnectionString, else Azurite (UseDevelopmentStorage=true).")]
    public string? Connection { get; set; }

    [CommandOption("--wait")]
    [Description("Follow the file to its end: ingested or quarantined, training, gate, promoted, awaiting approval or retained. Exit code 3 when quarantined, 4 when the run failed, 5 when nothing could be promoted, 6 on timeout.")]
    public bool Wait { get; set; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("With --wait, how long to wait before giving up (1 to 86400).")]
    [DefaultValue(600)]
    public int Timeout { get; set; } = 600;

    /// <summary>The spec to upload (from --spec, --label and --task), or null when none was given; read by <see cref="Validate"/>.</summary>
    public ModelSpec? ModelSpec { get; private set; }

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful) return result;
        if (!System.IO.File.Exists(File)) return ValidationResult.Error($"There is no file at '{File}'.");
        if (Serverless.Core.Datasets.DropZoneNames.DataExtension(Path.GetFileName(File)) is null)
        {
            var name = Path.GetFileName(File);
            var once = Path.GetFileNameWithoutExtension(name);
            // x.csv.gz.gz: a data file compressed twice, not one to rename.
            var advice = Serverless.Core.Datasets.DropZoneNames.IsGzip(name) && Serverless.Core.Datasets.DropZoneNames.IsGzip(once) && Serverless.Core.Datasets.DropZoneNames.DataExtension(once) is not null
                ? $"it looks compressed twice: decompress it once (gunzip) and upload {once}"
                : $"rename it, e.g. to {Path.GetFileNameWithoutExtension(File)}.csv";
            return ValidationResult.Error($"'{name}' is not a data file the pipeline reads (it would be quarantined): use {Serverless.Core.Datasets.DropZoneNames.Accepted}; {advice}.");
        }
        if (Timeout is < 1 or > 86_400) return ValidationResult.Error($"--timeout must be from 1 to 86400 seconds, not {Timeout}.");
        if (Label is { Length: 0 }) return ValidationResult.Error("--label needs a column name.");

        ModelSpec? spec = null;
        if (Spec is not null)
        {
            if (!System.IO.File.Exists(Spec)) return ValidationResult.Error($"There is no spec file at '{Spec}'.");
            try
            {
                // Read as the host reads it: every problem named at once, in words.
                spec = ModelSpecValidation.Parse(System.IO.File.ReadAllBytes(Spec), latest: null);
            }
            catch (InvalidSpecException e)
            {
                return ValidationResult.Error($"The spec '{Spec}' is not a valid model spec: {Problems(e)}");
            }
        }
        if (Task is not null)
        {
            var index = TaskNames.ToList().FindIndex(n => n.Equals(Task, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                var hint = Suggest(Task, TaskNames);
                return ValidationResult.Error($"--task must be one of {string.Join(", ", TaskNames)}, not '{Task}'." + (hint is null ? "" : $" Did you mean '{hint}'?"));
            }
            spec = (spec ?? new ModelSpec()) with { Task = Enum.GetValues<TaskKind>()[index] };
        }
        if (Label is not null) spec = (spec ?? new ModelSpec()) with { Label = Label };
        if (spec is not null)
        {
            try
            {
                ModelSpecValidation.Validate(spec);
            }
            catch (InvalidSpecException e)
            {
                return ValidationResult.Error($"The spec is not valid: {Problems(e)}");
            }
        }
        ModelSpec = spec;
        return ValidationResult.Success();
    }

    private static string Problems(InvalidSpecException e) => string.Join("; ", e.Problems.Select(p => $"{p.Key}: {string.Join(", ", p.Value)}")) + ".";

    /// <summary>The known name closest to a misspelt one (at most two edits away).</summary>
    public static string? Suggest(string given, IEnumerable<string> known) =>
        known.Select(k => (Name: k, Distance: Distance(given.ToLowerInvariant(), k.ToLowerInvariant()))).Where(x => x.Distance <= 2).OrderBy(x => x.Distance).Select(x => x.Name).FirstOrDefault();

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }
}

/// <summary>
/// <c>mlops upload &lt;model&gt; &lt;file&gt;</c>: puts the spec (when given) and the file into <c>incoming/{model}/</c>, where the
/// blob trigger picks them up; with <c>--wait</c>, follows that file to its end (<see cref="UploadFollower"/>).
/// </summary>
public sealed class UploadCommand(IAnsiConsole console) : AsyncCommand<UploadSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, UploadSettings settings, CancellationToken ct)
    {
        PipelineStorage storage;
        string account;
        try
        {
            storage = new PipelineStorage(Options.Create(StorageOptions(settings)));
            account = storage.Incoming.Uri.GetLeftPart(UriPartial.Authority);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            var source = settings.Connection is null ? "$Pipeline__Storage__ConnectionString" : "--connection";
            throw new CliException($"{source} is not a storage connection string ({e.Message.TrimEnd('.')}). It looks like " +
                                   "DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net, or UseDevelopmentStorage=true for Azurite.", ExitCodes.Usage);
        }
        var blobName = $"{settings.Model}/{Path.GetFileName(settings.File)}";
        const string hint = "Is Azurite running (./run), or is --connection right?";
        if (IsLoopback(storage.Incoming.Uri) && await UnreachableAsync(storage.Incoming.Uri, ct) is { } why)
        {
            // Azurite not running: a refused connection answers the same after every one of the storage client's retries
            // (half a minute of them). A remote account is left to those retries (and to a proxy, where one is set).
            throw new CliException($"cannot reach the storage account ({account}): {why}. {hint}");
        }
        Azure.ETag uploaded;
        try
        {
            await storage.EnsureCreatedAsync();
            if (settings.ModelSpec is { } spec)
            {
                var over = "";
                if (settings.Spec is null && (await new ModelSpecStore(storage).GetCurrentAsync(settings.Model, ct)) is { } current)
                {
                    // --label or --task without --spec change those fields of the spec in force, not the whole spec: a spec
                    // of the label alone would drop its approval gate, trainers and the rest without a word.
                    spec = current.Spec with { Label = spec.Label ?? current.Spec.Label, Task = spec.Task ?? current.Spec.Task };
                    over = $" (the spec in force, version {current.Version}, with {string.Join(" and ", new[] { settings.Label is null ? null : "--label", settings.Task is null ? null : "--task" }.OfType<string>())} over it)";
                }
                // Dropped, not stored: the drop zone checks the spec and brings it into force before the data that follows.
                await JsonBlobs.WriteAsync(storage.Incoming.GetBlobClient(ModelSpecStore.BlobName(settings.Model)), spec, ct);
                console.WriteLine($"uploaded: spec incoming/{ModelSpecStore.BlobName(settings.Model)}{over}");
            }
            await using var stream = System.IO.File.OpenRead(settings.File);
            uploaded = (await storage.Incoming.GetBlobClient(blobName).UploadAsync(stream, overwrite: true, ct)).Value.ETag;
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException or InvalidOperationException or FormatException)
        {
            // The storage client's retries end in an AggregateException whose message is about its retry settings: its causes say what happened.
            var cause = e is AggregateException all ? string.Join("; ", all.InnerExceptions.Select(i => i.Message).Distinct()) : e.Message.Split('\n')[0];
            throw new CliException($"cannot upload to the storage account ({account}): {cause} {hint}");
        }
        console.WriteLine($"uploaded: data incoming/{blobName} ({new FileInfo(settings.File).Length:N0} bytes)");
        if (!settings.Wait)
        {
            console.WriteLine($"the host picks it up from there; 'mlops show {settings.Model}' or the dashboard ({settings.HostUri}) shows what became of it.");
            return ExitCodes.Ok;
        }

        using var client = settings.CreateClient();
        var view = IFollowView.For(console);
        return await view.RunAsync(v => new UploadFollower(client, v, settings.Model, blobName, uploaded.ToString(), TimeSpan.FromSeconds(settings.Timeout),
            specUploaded: settings.ModelSpec is not null).FollowAsync(ct));
    }

    private static bool IsLoopback(Uri endpoint) =>
        endpoint.IsLoopback || (System.Net.IPAddress.TryParse(endpoint.Host, out var address) && System.Net.IPAddress.IsLoopback(address));

    /// <summary>Why the storage endpoint cannot be connected to (refused, no such host, no answer within 5 s), or null when it can.</summary>
    private static async Task<string?> UnreachableAsync(Uri endpoint, CancellationToken ct)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await tcp.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
            return null;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return e.Message;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return "no answer within 5 s";
        }
    }

    /// <summary>The storage options of the hosts (<c>Pipeline:Storage</c> from the environment), with --connection over them.</summary>
    private static PipelineStorageOptions StorageOptions(UploadSettings settings)
    {
        var options = new PipelineStorageOptions();
        new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection(PipelineStorageOptions.Section).Bind(options);
        if (settings.Connection is not null) options.ConnectionString = settings.Connection;
        if (string.IsNullOrEmpty(options.ConnectionString) && string.IsNullOrEmpty(options.AccountName)) options.ConnectionString = "UseDevelopmentStorage=true";
        return options;
    }
}
