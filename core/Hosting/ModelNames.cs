using System.Text.RegularExpressions;

namespace Serverless.Core.Hosting;

/// <summary>Model names are path segments of blobs, tables and routes, so they are kept to a safe alphabet.</summary>
public static partial class ModelNames
{
    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public const string Rule = "a model name is 1 to 63 lower-case letters, digits and inner hyphens";
}
