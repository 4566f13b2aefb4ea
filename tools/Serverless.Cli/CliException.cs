namespace Serverless.Cli;

/// <summary>A failure the command explains in one message (no stack trace), with the exit code it ends with.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Error, System.Net.HttpStatusCode? status = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>The host's status, when the host answered with an error.</summary>
    public System.Net.HttpStatusCode? Status { get; } = status;
}
