using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// The spec's <c>comment</c>: the character that marks a comment line of an upload. Comments are off unless the spec
/// names one; a line that starts with it is then skipped and counted, never read as a row or as the header.
/// </summary>
public static class CommentCharacter
{
    /// <summary>The characters that cannot mark comments: the delimiters the sniffer tries, and the quote.</summary>
    private const string Reserved = ",;\t|\"";

    /// <summary>The comment character of a spec; null when comments are off.</summary>
    public static char? Of(ModelSpec spec) => spec.Comment is [var c] ? c : null;

    /// <summary>What is wrong with a spec's comment value, or null when it is one ASCII punctuation or symbol character other than a delimiter or the quote.</summary>
    public static string? Problem(string comment) =>
        comment is [var c] && char.IsAscii(c) && (char.IsPunctuation(c) || char.IsSymbol(c)) && !Reserved.Contains(c)
            ? null
            : $"one character that starts comment lines, such as \"#\" (ASCII punctuation, not a delimiter {string.Join(" ", Reserved.Select(r => r == '\t' ? "tab" : r.ToString()))}); leave it out to read every line as data";
}
