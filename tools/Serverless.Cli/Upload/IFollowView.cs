using Spectre.Console;

namespace Serverless.Cli.Upload;

/// <summary>Where <c>upload --wait</c> shows its progress: lines that stay, and the stage going on now.</summary>
public interface IFollowView
{
    /// <summary>A step that happened (uploaded, ingested, gate passed, ...): printed and kept.</summary>
    void Line(string text);

    /// <summary>What is going on now, with the share of the whole done when it is known.</summary>
    void Stage(string text, double? fraction = null);

    /// <summary>Runs <paramref name="follow"/> with this view shown.</summary>
    Task<int> RunAsync(Func<IFollowView, Task<int>> follow);

    /// <summary>A progress bar and spinner in an interactive terminal, plain lines otherwise (a pipe, a file, CI).</summary>
    public static IFollowView For(IAnsiConsole console) =>
        console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi ? new LiveFollowView(console) : new PlainFollowView(console);
}

/// <summary>Plain lines: each step, and each change of stage, once.</summary>
public sealed class PlainFollowView(IAnsiConsole console) : IFollowView
{
    private string? _stage;

    public void Line(string text) => console.WriteLine(text);

    public void Stage(string text, double? fraction = null)
    {
        if (text == _stage) return;
        _stage = text;
        console.WriteLine("  … " + text);
    }

    public Task<int> RunAsync(Func<IFollowView, Task<int>> follow) => follow(this);
}

/// <summary>Spectre.Console's live progress: a spinner and a bar for the whole run (candidate by candidate while training), steps printed above.</summary>
public sealed class LiveFollowView(IAnsiConsole console) : IFollowView
{
    private ProgressTask? _task;

    public void Line(string text) => console.MarkupLine(Markup.Escape(text));

    public void Stage(string text, double? fraction = null)
    {
        if (_task is null) return;
        _task.Description = Markup.Escape(text);
        _task.IsIndeterminate = fraction is null;
        if (fraction is { } share) _task.Value = Math.Clamp(share, 0, 1) * 100;
    }

    public Task<int> RunAsync(Func<IFollowView, Task<int>> follow) =>
        console.Progress()
            .AutoClear(true)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                _task = context.AddTask("starting", maxValue: 100);
                _task.IsIndeterminate = true;
                try
                {
                    return await follow(this);
                }
                finally
                {
                    _task.StopTask();
                }
            });
}
