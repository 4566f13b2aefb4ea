using System.Diagnostics;
using Serverless.Cli;
using Spectre.Console;

namespace Serverless.Tests.Cli;

/// <summary>Runs the command line in this process on a plain console, or as its own process (<c>dotnet mlops.dll</c>).</summary>
public static class CliRunner
{
    public static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 240;
        var exit = await MlopsApp.RunAsync(args, console);
        return (exit, writer.ToString());
    }

    /// <summary>The built command line beside the tests (the test project references it).</summary>
    public static string Assembly => Path.Combine(AppContext.BaseDirectory, MlopsApp.Name + ".dll");

    /// <summary>Runs <c>dotnet mlops.dll args</c> with <paramref name="environment"/> and its output redirected (so not interactive).</summary>
    public static async Task<(int Exit, string Output)> RunProcessAsync(IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] args)
    {
        using var process = Process.Start(StartInfo(environment, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"mlops {string.Join(' ', args)} did not end within {timeout}; output so far: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>
    /// As <see cref="StartInfo"/>, started through <c>env --default-signal=INT</c> so that SIGINT reaches the command as
    /// Ctrl-C reaches it in a terminal. A test run started in the background of a script (<c>cmd &amp;</c> without job
    /// control) passes SIGINT on to every child as ignored, and .NET then leaves it ignored.
    /// </summary>
    public static ProcessStartInfo InterruptibleStartInfo(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = StartInfo(environment, args);
        start.ArgumentList.Insert(0, start.FileName);
        start.ArgumentList.Insert(0, "--default-signal=INT");
        start.FileName = "env";
        return start;
    }

    /// <summary><c>dotnet mlops.dll args</c> with <paramref name="environment"/>, its output and errors redirected (so not interactive).</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Assembly);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return start;
    }
}
