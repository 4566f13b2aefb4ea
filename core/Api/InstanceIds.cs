using System.Text.RegularExpressions;

namespace Serverless.Core.Api;

/// <summary>Training runs' instance ids as routes, query parameters and the command line take them: what a blob name, a table key and a URL segment can all carry.</summary>
public static partial class InstanceIds
{
    public const string Rule = "1 to 200 letters, digits, '-', '_', '.' or ':', starting with a letter or digit";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? instanceId) => instanceId is not null && Pattern().IsMatch(instanceId);
}
