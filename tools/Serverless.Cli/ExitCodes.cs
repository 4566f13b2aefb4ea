namespace Serverless.Cli;

/// <summary>The exit codes of <c>mlops</c>, as documented in the README.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The host answered an error, could not be reached, or a file could not be read.</summary>
    public const int Error = 1;

    /// <summary>The command line was wrong: an unknown command or option, a missing argument, a bad value.</summary>
    public const int Usage = 2;

    /// <summary>The uploaded file was quarantined, or the spec uploaded with it was refused (and is kept in quarantine).</summary>
    public const int Quarantined = 3;

    /// <summary>The training run failed or was terminated.</summary>
    public const int RunFailed = 4;

    /// <summary>The run ended without a usable version: the quality gate refused it, or a person rejected it, or approval expired.</summary>
    public const int NotPromoted = 5;

    /// <summary><c>--wait</c> gave up after <c>--timeout</c>.</summary>
    public const int TimedOut = 6;
}
