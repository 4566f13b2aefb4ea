namespace Serverless.Core.Specs;

/// <summary>
/// The problems found in a model spec, by field (a JSON path such as <c>trainers[0].grid.numberOfLeaves</c>), collected
/// so that one answer names every bad field at once.
/// </summary>
public sealed class SpecProblems
{
    private readonly Dictionary<string, List<string>> _byField = new(StringComparer.Ordinal);

    public int Count => _byField.Count;

    public void Add(string field, string problem)
    {
        if (!_byField.TryGetValue(field, out var list)) _byField[field] = list = [];
        if (!list.Contains(problem)) list.Add(problem);
    }

    public bool Has(string field) => _byField.ContainsKey(field);

    /// <summary>Whether <paramref name="field"/> or a value inside it (an item, a key) has a problem already.</summary>
    public bool HasWithin(string field) => _byField.Keys.Any(k => k.StartsWith(field, StringComparison.Ordinal) &&
        (k.Length == field.Length || k[field.Length] is '[' or '.'));

    public IReadOnlyDictionary<string, string[]> ToDictionary() =>
        _byField.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>One sentence naming every field and its problems.</summary>
    public string Describe() =>
        $"The model spec has {Count} problem(s): {string.Join("; ", _byField.Select(p => $"{p.Key}: {string.Join(", ", p.Value.Select(v => v.TrimEnd('.')))}"))}.";

    /// <summary>Throws <see cref="InvalidSpecException"/> when anything was found.</summary>
    public void ThrowIfAny()
    {
        if (Count > 0) throw new InvalidSpecException(Describe(), ToDictionary());
    }
}

/// <summary>A model spec that does not count: it is not stored, and the spec in force stays. Names every bad field.</summary>
public sealed class InvalidSpecException(string message, IReadOnlyDictionary<string, string[]> problems) : Exception(message)
{
    public IReadOnlyDictionary<string, string[]> Problems { get; } = problems;
}

/// <summary>The closest of a set of names to a misspelt one, for "did you mean" hints.</summary>
public static class NameSuggestions
{
    /// <summary>The candidate nearest to <paramref name="name"/> (case-insensitive edit distance), or null when none is near.</summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var lower = name.ToLowerInvariant();
        foreach (var candidate in candidates)
        {
            var other = candidate.ToLowerInvariant();
            var distance = Distance(lower, other);
            // Near in spelling, or an abbreviation of it ("numLeaves" for "numberOfLeaves", "fare" for "fare_amount").
            var near = distance <= Math.Max(2, name.Length / 3) || (lower.Length >= 3 && IsSubsequence(lower, other));
            if (near && distance < bestDistance) (best, bestDistance) = (candidate, distance);
        }
        return best;
    }

    private static bool IsSubsequence(string shorter, string longer)
    {
        var i = 0;
        foreach (var c in longer)
        {
            if (i < shorter.Length && shorter[i] == c) i++;
        }
        return i == shorter.Length;
    }

    /// <summary>"did you mean 'x'? " or "", followed by the list of valid names.</summary>
    public static string Hint(string name, IReadOnlyCollection<string> valid, string what = "one of")
    {
        var closest = Closest(name, valid);
        return $"{(closest is null ? "" : $"did you mean '{closest}'? ")}{what} {string.Join(", ", valid)}";
    }

    // Levenshtein distance: small inputs (key and value names), so the plain two-row form is enough.
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
