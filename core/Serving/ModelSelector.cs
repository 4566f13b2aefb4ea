namespace Serverless.Core.Serving;

/// <summary>Which version of a model answers: a pinned <see cref="Version"/>, the version an <see cref="Alias"/> points at, or (neither) production.</summary>
public readonly record struct ModelSelector(string? Version = null, string? Alias = null)
{
    public const string AliasRule = "1 to 64 letters, digits, '-' or '_'";

    public static ModelSelector Production => default;

    /// <summary>Whether <paramref name="value"/> has the form the registry gives versions: v1, v2, ...</summary>
    public static bool IsVersion(string value) =>
        value.Length is >= 2 and <= 10 && value[0] == 'v' && value[1] is >= '1' and <= '9' && value.AsSpan(1).ContainsAnyExceptInRange('0', '9') == false;

    public static bool IsAlias(string value) =>
        value.Length is >= 1 and <= 64 && !value.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
}
