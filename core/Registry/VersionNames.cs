using Serverless.Core.Serving;

namespace Serverless.Core.Registry;

/// <summary>
/// The one form of a model version the API shows: <c>v</c> and its number (<c>v1</c>, <c>v2</c>, ...). A bare number is
/// read as the version of that number wherever a version is given (a route, <c>?version=</c>, a promote body).
/// </summary>
public static class VersionNames
{
    public const string Rule = "v followed by a number, e.g. v2 (a bare 2 is read as v2)";

    /// <summary>The name of version number <paramref name="number"/>.</summary>
    public static string Format(int number) => "v" + number;

    /// <summary>The version <paramref name="value"/> names, in the <c>vN</c> form; null when it names none.</summary>
    public static string? Normalize(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (ModelSelector.IsVersion(value)) return value;
        var numbered = "v" + value;
        return ModelSelector.IsVersion(numbered) ? numbered : null;
    }
}
