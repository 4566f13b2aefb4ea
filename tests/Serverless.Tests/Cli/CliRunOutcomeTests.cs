using System.Text.Json.Nodes;
using Serverless.Cli.Commands;

namespace Serverless.Tests.Cli;

/// <summary><c>mlops show</c>'s outcome column, for every shape a run's output has.</summary>
public sealed class CliRunOutcomeTests
{
    [Theory]
    [InlineData("""{"runtimeStatus":"Completed","output":{"status":"promoted"}}""", "promoted")]
    [InlineData("""{"runtimeStatus":"Terminated","output":"tour stop"}""", "terminated: tour stop")]
    [InlineData("""{"runtimeStatus":"Failed","failureDetails":{"errorMessage":"no rows"}}""", "no rows")]
    [InlineData("""{"runtimeStatus":"Running"}""", "–")]
    public void Outcome_OfEachKindOfRun_IsReadWithoutFailing(string run, string expected) =>
        Assert.Equal(expected, ShowCommand.Outcome(JsonNode.Parse(run)));
}
