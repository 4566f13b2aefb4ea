using System.Text.RegularExpressions;

namespace Serverless.Core.Hosting;

/// <summary>Dataset versions are content addresses (<c>ds-</c> and 16 hex digits) and path segments of blobs: nothing else is let through.</summary>
public static partial class DatasetVersionNames
{
    [GeneratedRegex("^ds-[0-9a-f]{16}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public const string Rule = "ds- followed by 16 lower-case hex digits, e.g. ds-0123456789abcdef";
}
