namespace Serverless.Cli;

/// <summary>A failure the command explains in one message (no stack trace), with the exit code it ends with.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Error) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
