using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>The order of a label's classes, as the schema lists them and training keys them.</summary>
internal static class ClassOrder
{
    /// <summary>
    /// A total order of class values: numbers first, by value (ties, such as "1" and "1.0", ordinally), then the rest
    /// ordinally. Comparing numbers by value and text ordinally in one comparison would not be transitive when a label
    /// mixes them ("2" &lt; "1e5" &lt; "1f" &lt; "2"), and the sort could throw.
    /// </summary>
    public static int Compare(string a, string b)
    {
        var aNumber = CellValues.TryNumber(a, out var x);
        var bNumber = CellValues.TryNumber(b, out var y);
        if (aNumber != bNumber) return aNumber ? -1 : 1;
        var byValue = aNumber ? x.CompareTo(y) : 0;
        return byValue != 0 ? byValue : string.CompareOrdinal(a, b);
    }

    /// <summary>Classes sorted (see <see cref="Compare"/>); for a binary label the positive-looking value goes second.</summary>
    public static IReadOnlyList<string> Sort(IEnumerable<string> values, TaskKind task)
    {
        var list = values.ToList();
        list.Sort(Compare);
        if (task == TaskKind.Binary)
        {
            static bool Positive(string v) => v.ToLowerInvariant() is "1" or "true" or "yes" or "y" or "t" or "positive" or "pos";
            if (Positive(list[0]) && !Positive(list[1])) list.Reverse();
        }
        return list;
    }
}
