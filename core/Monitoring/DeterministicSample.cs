namespace Serverless.Core.Monitoring;

/// <summary>
/// A bottom-k sample: of everything offered, the <c>capacity</c> items with the smallest keyed hashes. The same items
/// give the same sample whatever order they come in, memory stays at the capacity, and no random generator is involved,
/// so a check run twice on the same data compares the same rows.
/// </summary>
public sealed class DeterministicSample<T>(int capacity)
{
    // The largest kept hash on top, so a smaller one replaces it.
    private readonly PriorityQueue<T, ulong> _kept = new(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));

    public long Offered { get; private set; }

    public void Offer(ulong hash, T item)
    {
        Offered++;
        if (_kept.Count < capacity) _kept.Enqueue(item, hash);
        else if (capacity > 0 && _kept.TryPeek(out _, out var largest) && hash < largest) _kept.DequeueEnqueue(item, hash);
    }

    /// <summary>
    /// Whether an item of this hash would be kept if offered now. One that is not can never be kept later (the largest
    /// kept hash only falls), so the caller may count it with <see cref="Pass"/> instead of making the item at all.
    /// </summary>
    public bool Admits(ulong hash) => _kept.Count < capacity || (capacity > 0 && _kept.TryPeek(out _, out var largest) && hash < largest);

    /// <summary>Counts an item that <see cref="Admits"/> turned away, as <see cref="Offer"/> would have.</summary>
    public void Pass() => Offered++;

    /// <summary>The kept items, in ascending hash order.</summary>
    public List<T> Items()
    {
        var items = new List<(T Item, ulong Hash)>(_kept.Count);
        foreach (var (item, hash) in _kept.UnorderedItems) items.Add((item, hash));
        items.Sort((a, b) => a.Hash.CompareTo(b.Hash));
        return [.. items.Select(i => i.Item)];
    }

    /// <summary>SplitMix64's finalizer: a well-spread 64-bit hash of a number.</summary>
    public static ulong Hash(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>FNV-1a over the text's UTF-16 code units, finalized by <see cref="Hash(ulong)"/>: stable across processes.</summary>
    public static ulong Hash(string text, int salt = 0) => Hash(text.AsSpan(), salt);

    /// <inheritdoc cref="Hash(string, int)"/>
    public static ulong Hash(ReadOnlySpan<char> text, int salt = 0)
    {
        var h = 14695981039346656037UL ^ (ulong)salt;
        foreach (var c in text)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return Hash(h);
    }
}
