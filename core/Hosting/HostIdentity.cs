namespace Serverless.Core.Hosting;

/// <summary>This process, as it names itself in records other processes read (experiment runs, the engine's partition ownership).</summary>
public static class HostIdentity
{
    public static string Name { get; } = $"{Environment.MachineName}-{Environment.ProcessId}";
}
