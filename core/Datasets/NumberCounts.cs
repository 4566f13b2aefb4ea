using System.Runtime.CompilerServices;

namespace Serverless.Core.Datasets;

/// <summary>
/// Counts of distinct numbers in the order first seen, as a <see cref="Dictionary{TKey, TValue}"/> of doubles would keep
/// them (0 and -0 are one key, so are all NaNs, and the first spelling seen is kept): an open-addressing table maps a
/// number to its rank, and counts are kept by rank. The hash multiplier is random per process, so crafted values cannot
/// force collisions.
/// </summary>
internal sealed class NumberCounts
{
    private static readonly ulong Multiplier = (ulong)Random.Shared.NextInt64() | 1;

    private Slot[] _slots = new Slot[32];
    private double[] _keys = new double[16];
    private long[] _counts = new long[16];
    private int _shift = 64 - 5;

    public int Count { get; private set; }

    private static ulong Bits(double x) => x == 0 ? 0 : double.IsNaN(x) ? 0x7FF8000000000000UL : BitConverter.DoubleToUInt64Bits(x);

    /// <summary>The number's rank among those counted, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int IndexOf(double x)
    {
        var bits = Bits(x);
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var b = (int)((bits * Multiplier) >> _shift); ; b = (b + 1) & mask)
        {
            ref var slot = ref slots[b];
            if (slot.Count == 0) return -1;
            if (slot.Key == bits) return slot.Entry;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Increment(int rank) => _counts[rank]++;

    /// <summary>Adds a number not counted yet, once; returns its rank.</summary>
    public int Insert(double x)
    {
        if (Count == _keys.Length)
        {
            Array.Resize(ref _keys, Count * 2);
            Array.Resize(ref _counts, Count * 2);
        }
        _keys[Count] = x;
        _counts[Count] = 1;
        if ((Count + 1) * 2 > _slots.Length) _shift = Slot.Grow(ref _slots, _shift, Multiplier);
        Slot.Place(_slots, new Slot(Bits(x), 1, Count), _shift, Multiplier);
        return Count++;
    }

    /// <summary>The numbers and their counts, in the order first seen.</summary>
    public IEnumerable<(double Key, long Count)> InOrder()
    {
        for (var i = 0; i < Count; i++) yield return (_keys[i], _counts[i]);
    }
}
