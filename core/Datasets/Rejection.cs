namespace Serverless.Core.Datasets;

/// <summary>Why a file is refused: a reason code, a message a person can act on, and the row-level problems seen.</summary>
internal sealed class Rejection(string code, string message, ProblemLog? problems = null) : Exception(message)
{
    public string Code { get; } = code;
    public ProblemLog? Problems { get; set; } = problems;
}
