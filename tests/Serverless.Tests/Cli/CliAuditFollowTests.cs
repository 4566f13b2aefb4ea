using System.Diagnostics;
using System.Text;
using Serverless.Cli;
using Serverless.Core.Tracking;
using Serverless.Testing;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Cli;

/// <summary>
/// <c>mlops audit --follow</c> as its own process against the local host: it lists the model's records, prints each new
/// one as it is recorded, and ends with exit code 0 on Ctrl-C (SIGINT).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CliAuditFollowTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AuditFollow_PrintsNewRecordsAsTheyCome_AndStopsCleanlyOnCtrlC()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var audit = new AuditLog(host.Storage);
        var model = "followed" + IsolatedLayout.NewSuffix()[..6];
        await audit.RecordAsync(AuditActions.Promote, model, "ann", "first move", null, CancellationToken.None);
        await audit.RecordAsync(AuditActions.Promote, "other" + IsolatedLayout.NewSuffix()[..6], "ann", "another model", null, CancellationToken.None);

        using var process = Process.Start(CliRunner.InterruptibleStartInfo(new Dictionary<string, string>(),
            "audit", "--model", model, "--follow", "--interval", "0.5", "--host", host.Client.BaseAddress!.ToString()))!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (output) output.AppendLine(line.Data); };
        process.ErrorDataReceived += (_, line) => { lock (output) output.AppendLine(line.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Text() { lock (output) return output.ToString(); }
        try
        {
            await UntilAsync(() => Text().Contains("following; Ctrl-C stops", StringComparison.Ordinal), Text);
            Assert.Contains("first move", Text());
            Assert.DoesNotContain("another model", Text());

            await audit.RecordAsync(AuditActions.Rollback, model, "bob", "second move", null, CancellationToken.None);

            await UntilAsync(() => Text().Contains("second move", StringComparison.Ordinal), Text);
            var line = Text().Split('\n').Single(l => l.Contains("second move", StringComparison.Ordinal));
            Assert.Contains(AuditActions.Rollback, line);
            Assert.Contains("bob", line);
            // Each record once: the first is not printed again by the follow.
            Assert.Equal(1, Text().Split('\n').Count(l => l.Contains("first move", StringComparison.Ordinal)));

            using (var interrupt = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync();
            }
            using var bound = new CancellationTokenSource(Wait);
            try
            {
                await process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                // Its output says where the follow was when the signal came.
                throw new TimeoutException($"mlops audit --follow did not end within {Wait} of SIGINT (exited: {process.HasExited}); its output:\n{Text()}");
            }
            Assert.True(process.ExitCode == ExitCodes.Ok, $"exit {process.ExitCode}:\n{Text()}");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private static async Task UntilAsync(Func<bool> done, Func<string> output)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"mlops audit --follow did not get there within {Wait}; its output:\n{output()}");
            await Task.Delay(100);
        }
    }
}
