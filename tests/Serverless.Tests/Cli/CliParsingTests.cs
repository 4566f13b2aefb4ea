using System.ComponentModel;
using System.Reflection;
using Serverless.Cli;
using Serverless.Cli.Commands;
using Serverless.Testing;
using Serverless.Tests.Infrastructure;
using Spectre.Console.Cli;

namespace Serverless.Tests.Cli;

/// <summary>The command line's parser: help for every command and option, and wrong input refused with a message (no stack trace).</summary>
public sealed class CliParsingTests
{
    public static TheoryData<string, Type> Commands => new()
    {
        { "upload", typeof(UploadSettings) },
        { "models", typeof(HostSettings) },
        { "show", typeof(ModelSettings) },
        { "promote", typeof(PromoteSettings) },
        { "rollback", typeof(ModelAdminSettings) },
        { "approve", typeof(DecisionSettings) },
        { "reject", typeof(DecisionSettings) },
        { "audit", typeof(AuditSettings) },
        { "train", typeof(TrainSettings) },
        { "terminate", typeof(DecisionSettings) },
        { "drift", typeof(ModelAdminSettings) },
        { "spec", typeof(SpecSettings) },
        { "archive", typeof(VersionAdminSettings) },
        { "register", typeof(RegisterSettings) },
        { "runs", typeof(RunsSettings) },
    };

    /// <summary>
    /// Every example the help shows parses as the shell would pass it: a reason of several words is quoted in the help (as
    /// written there, "rollback taxi --reason complaints about fares" was refused with "Could not match 'about'").
    /// </summary>
    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_EveryExample_ParsesAsAShellWouldPassIt(string command, Type _)
    {
        var (_, help) = await CliRunner.RunAsync(command, "--help");
        var examples = help.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(MlopsApp.Name + " " + command, StringComparison.Ordinal) && !l.Contains('<') && !l.Contains('[')).ToList(); // not the usage line

        Assert.NotEmpty(examples);
        foreach (var example in examples)
        {
            // Split as bash does for these examples: on spaces, except inside double quotes.
            var words = System.Text.RegularExpressions.Regex.Matches(example, "\"([^\"]*)\"|(\\S+)").Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).Skip(1);
            // --help after the example: it is parsed whole (a word it cannot place is a usage error) and nothing runs.
            var (exit, output) = await CliRunner.RunAsync([.. words, "--help"]);
            Assert.True(exit == ExitCodes.Ok, $"{example}: {output}");
        }
    }

    /// <summary>
    /// The end-to-end check CI runs against <c>func start</c> calls the CLI with options the CLI has: it once passed
    /// <c>--timeout-seconds</c>, a usage error, so the job could never reach its checks.
    /// </summary>
    [Fact]
    public async Task EndToEndScript_CallsTheCliWithOptionsItHas()
    {
        var script = File.ReadAllText(Path.Combine(RepositoryPaths.Root, ".github", "e2e", "check-pipeline.sh")).Replace("\\\n", " ", StringComparison.Ordinal);
        var call = Assert.Single(script.Split('\n'), l => l.Contains("tools/Serverless.Cli", StringComparison.Ordinal));
        // The words after "--", each shell variable standing for a value of its kind (the timeout a number, the rest names and paths).
        var words = System.Text.RegularExpressions.Regex.Matches(call[(call.IndexOf(" -- ", StringComparison.Ordinal) + 4)..], "\"([^\"]*)\"|(\\S+)")
            .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)
            .Select(w => w.Contains("timeout", StringComparison.Ordinal) && w.StartsWith('$') ? "600" : w.Contains('$') ? "taxi-e2e" : w);

        var (exit, output) = await CliRunner.RunAsync([.. words, "--help"]);

        Assert.True(exit == ExitCodes.Ok, $"{call.Trim()}: {output}");
    }

    [Fact]
    public async Task Upload_ConnectionThatIsNoConnectionString_IsAUsageErrorSayingWhatOneLooksLike()
    {
        var (exit, output) = await CliRunner.RunAsync("upload", "taxi", DataFile(), "--connection", "garbage");

        var text = System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("--connection is not a storage connection string", text);
        Assert.Contains("UseDevelopmentStorage=true for Azurite", text);
    }

    [Fact]
    public async Task NoCommand_PrintsTheHelpAndExitsAsAUsageError()
    {
        var (exit, output) = await CliRunner.RunAsync();

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("COMMANDS", output);
    }

    [Fact]
    public async Task HostThatIsNotThePipelines_ItsBare404SaysToCheckTheHost()
    {
        var port = AzuriteProcess.FreePort();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        // Every request gets a bare 404, as a web server that is not the pipeline's gives for its paths.
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                var context = await listener.GetContextAsync();
                context.Response.StatusCode = 404;
                context.Response.Close();
            }
        });

        var (exit, output) = await CliRunner.RunAsync("show", "taxi", "--host", $"http://127.0.0.1:{port}");

        Assert.Equal(ExitCodes.Error, exit);
        Assert.Contains("404 Not Found", output);
        Assert.Contains($"is http://127.0.0.1:{port}/ the pipeline's host?", output);
    }

    [Fact]
    public async Task Spec_SetFromAFileThatIsNotThere_IsRefusedNamingIt()
    {
        var (exit, output) = await CliRunner.RunAsync("spec", "taxi", "--set", "no-such-model.json");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("there is no file 'no-such-model.json'", output);
    }

    [Fact]
    public async Task Train_DatasetThatIsNotAVersionName_IsRefusedWithTheRule()
    {
        var (exit, output) = await CliRunner.RunAsync("train", "taxi", "--dataset", "latest");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("'latest' is not a dataset version: ds- followed by 16", output);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_OfEveryCommand_DescribesEachOption(string command, Type settings)
    {
        var (exit, output) = await CliRunner.RunAsync(command, "--help");

        Assert.Equal(ExitCodes.Ok, exit);
        var options = settings.GetProperties().Where(p => p.GetCustomAttribute<CommandOptionAttribute>() is not null).ToList();
        Assert.NotEmpty(options);
        foreach (var option in options)
        {
            var name = option.GetCustomAttribute<CommandOptionAttribute>()!.LongNames[0];
            var description = option.GetCustomAttribute<DescriptionAttribute>()?.Description;
            Assert.False(string.IsNullOrWhiteSpace(description), $"--{name} of '{command}' has no description");
            Assert.Contains("--" + name, output);
            Assert.Contains(description!.Split(' ')[0], output);
        }
    }

    [Theory]
    [InlineData("-n", "abc", "'abc' is not a whole number")]
    [InlineData("--interval", "soon", "'soon' is not a number")]
    public async Task Audit_OptionOfTheWrongKind_IsRefusedInWordsWithoutATypeName(string option, string value, string expected)
    {
        var (exit, output) = await CliRunner.RunAsync("audit", option, value);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(expected, output);
        Assert.DoesNotContain("Int32", output);
        Assert.DoesNotContain("Double", output);
    }

    [Fact]
    public async Task Upload_MisspeltTask_IsRefusedNamingTheTasksWithoutAStackTrace()
    {
        var (exit, output) = await CliRunner.RunAsync("upload", "taxi", DataFile(), "--task", "regresion");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("--task must be one of regression, binary, multiclass, not 'regresion'", output);
        Assert.Contains("Did you mean 'regression'?", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Upload_UnknownOption_IsRefusedWithTheOptionMeant()
    {
        var (exit, output) = await CliRunner.RunAsync("upload", "taxi", DataFile(), "--lable", "fare_amount");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("Unknown option 'lable'", output);
        Assert.Contains("Did you mean '--label'?", output);
    }

    [Fact]
    public async Task Rollback_AnOptionOfAnotherCommand_IsRefusedWithoutSuggestingItBack()
    {
        var (exit, output) = await CliRunner.RunAsync("rollback", "taxi", "--force");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("'--force' is an option of other commands, not of this one.", output);
        Assert.DoesNotContain("Did you mean '--force'?", output);
    }

    [Fact]
    public async Task Upload_SpecWithAMisspeltField_IsRefusedNamingIt()
    {
        var (exit, output) = await WithFileAsync("spec", ".json", """{"lable":"fare_amount","trainers":[{"name":"XGBoost"}]}""",
            spec => CliRunner.RunAsync("upload", "taxi", DataFile(), "--spec", spec));

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("is not a valid model spec", output);
        Assert.Contains("lable: unknown key; did you mean 'label'", output);
        Assert.Contains("unknown trainer 'XGBoost'", output);
        Assert.DoesNotContain(".NET", output);
        Assert.DoesNotContain("could not be mapped", output);
    }

    [Fact]
    public async Task Upload_LabelAndTaskGivenWithASpecThatNamesAnUnknownTrainer_IsRefusedNotACrash()
    {
        var (exit, output) = await WithFileAsync("spec", ".json", """{"trainers":[{"name":"LightGbm","grid":{"learningRate":[0]}}]}""",
            spec => CliRunner.RunAsync("upload", "taxi", DataFile(), "--spec", spec, "--label", "fare_amount", "--task", "regression"));

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("trainers[0].grid.learningRate[0]", output);
        Assert.Contains("out of range", output);
    }

    /// <summary>
    /// A file whose name the drop zone would quarantine is refused before uploading, with what to do: rename it, or, named
    /// as compressed twice (.csv.gz.gz), decompress it once (renaming it x.csv.gz.csv would not help).
    /// </summary>
    [Theory]
    [InlineData("iris", ".data", "rename it, e.g. to iris-", ".data.csv")]
    [InlineData("taxi", ".csv.gz.gz", "it looks compressed twice: decompress it once (gunzip) and upload taxi-", ".gz.csv")]
    public async Task Upload_FileOfAKindThePipelineDoesNotRead_IsRefusedBeforeUploading_SayingWhatToDo(string name, string extension, string advice, string notSuggested)
    {
        var (exit, output) = await WithFileAsync(name, extension, "5.1,3.5,1.4,0.2,Iris-setosa\n", data => CliRunner.RunAsync("upload", "refused", data));

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("is not a data file the pipeline reads", output);
        Assert.Contains(".csv, .tsv or .txt (optionally .gz)", output);
        Assert.Contains(advice, output);
        Assert.DoesNotContain(notSuggested, output);
    }

    /// <summary>Runs the CLI with a file of <paramref name="content"/> written for it, and deletes the file after.</summary>
    private static async Task<T> WithFileAsync<T>(string name, string extension, string content, Func<string, Task<T>> run)
    {
        var path = Path.Combine(AppContext.BaseDirectory, $"{name}-{IsolatedLayout.NewSuffix()}{extension}");
        await File.WriteAllTextAsync(path, content);
        try
        {
            return await run(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Upload_MissingFile_IsRefusedNamingThePath()
    {
        var (exit, output) = await CliRunner.RunAsync("upload", "taxi", "no/such/file.csv");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("There is no file at 'no/such/file.csv'", output);
    }

    [Fact]
    public async Task Upload_InvalidModelName_IsRefusedWithTheRule()
    {
        var (exit, output) = await CliRunner.RunAsync("upload", "Taxi/..", DataFile());

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("is not a valid model name", output);
    }

    [Fact]
    public async Task Audit_NonNumericMax_IsRefusedWithoutAStackTrace()
    {
        var (exit, output) = await CliRunner.RunAsync("audit", "--max", "many");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("'many'", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Promote_NotAVersion_IsRefused()
    {
        var (exit, output) = await CliRunner.RunAsync("promote", "taxi", "latest");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("'latest' is not a version", output);
    }

    [Fact]
    public async Task UnknownCommand_IsRefused()
    {
        var (exit, output) = await CliRunner.RunAsync("uplod", "taxi");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("uplod", output);
    }

    [Fact]
    public async Task Models_HostNotListening_SaysSoWithoutAStackTrace()
    {
        var port = AzuriteProcess.FreePort();

        var (exit, output) = await CliRunner.RunAsync("models", "--host", $"http://127.0.0.1:{port}");

        Assert.Equal(ExitCodes.Error, exit);
        Assert.Contains($"cannot reach http://127.0.0.1:{port}/", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Upload_StorageNotListening_SaysSoAtOnceWithoutTheStorageClientsRetries()
    {
        var port = AzuriteProcess.FreePort();
        var connection = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Convert.ToBase64String(new byte[64])};" +
                         $"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

        var (exit, output) = await CliRunner.RunAsync("upload", "taxi", DataFile(), "--connection", connection);

        Assert.Equal(ExitCodes.Error, exit);
        // Named at once from the refused connection, not after the client's six tries ("Retry failed after 6 tries").
        Assert.Contains($"cannot reach the storage account (http://127.0.0.1:{port}): Connection refused. Is Azurite running (./run)", output);
        Assert.DoesNotContain("Retry", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Theory]
    [InlineData("rollback", "taxi", "--reason")]
    [InlineData("promote", "taxi", "v2", "--reason", "--force")]
    [InlineData("promote", "taxi", "v2", "--force", "--reason")]
    [InlineData("models", "--host")]
    public async Task AnOptionThatTakesAValue_GivenWithout_IsAUsageErrorNamingIt(params string[] args)
    {
        var (exit, output) = await CliRunner.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, exit);
        // Said before anything is sent: no host is needed to learn it (nothing listens on the default one here).
        Assert.Contains($"{(args.Contains("--reason") ? "--reason" : "--host")} needs a value", output);
    }

    private static string DataFile() => Infrastructure.RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv");
}
