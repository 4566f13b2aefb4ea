using System.Runtime.CompilerServices;
using System.Text;

namespace Serverless.Core.Datasets;

/// <summary>
/// Counts of distinct UTF-8 values in the order first seen, the equivalent of an ordinal
/// <see cref="Dictionary{TKey, TValue}"/> of strings without a string per lookup. A value of up to seven bytes is its own
/// key (bytes and length in one word), so most lookups compare one word; longer values are hashed with the randomized
/// <see cref="HashCode"/> and compared byte for byte, their bytes stored once in one array.
/// </summary>
internal sealed class TextCounts
{
    private static readonly ulong Multiplier = (ulong)Random.Shared.NextInt64() | 1;
    private const ulong LongKey = 0xFFUL << 56;

    private Slot[] _slots = new Slot[32];
    private int _shift = 64 - 5;
    private byte[] _arena = new byte[256];
    private int _used;
    private int[] _offsets = new int[16];
    private int[] _lengths = new int[16];

    public int Count { get; private set; }

    private static ulong Key(ReadOnlySpan<byte> value)
    {
        if (value.Length < 8) return ColumnStatistics.ShortKey(value);
        var hash = new HashCode();
        hash.AddBytes(value);
        return LongKey | ((ulong)(uint)value.Length << 32) | (uint)hash.ToHashCode();
    }

    /// <summary>Counts the value once more if it is known; <paramref name="shortKey"/> is its <see cref="ColumnStatistics.ShortKey"/> (0 to compute).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryIncrement(ReadOnlySpan<byte> value, ulong shortKey)
    {
        var index = Find(value, shortKey != 0 ? shortKey : Key(value));
        if (index < 0) return false;
        _slots[index].Count++;
        return true;
    }

    /// <summary>Adds <paramref name="count"/> to the value's count, inserting it after the others if new.</summary>
    public void Add(ReadOnlySpan<byte> value, long count)
    {
        var key = Key(value);
        var index = Find(value, key);
        if (index >= 0)
        {
            _slots[index].Count += count;
            return;
        }
        if (Count == _offsets.Length)
        {
            Array.Resize(ref _offsets, Count * 2);
            Array.Resize(ref _lengths, Count * 2);
        }
        if (_used + value.Length > _arena.Length) Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + value.Length));
        value.CopyTo(_arena.AsSpan(_used));
        _offsets[Count] = _used;
        _lengths[Count] = value.Length;
        _used += value.Length;
        if ((Count + 1) * 2 > _slots.Length) _shift = Slot.Grow(ref _slots, _shift, Multiplier);
        Slot.Place(_slots, new Slot(key, count, Count), _shift, Multiplier);
        Count++;
    }

    /// <summary>Counts a value of one to seven bytes once more if it is known, from its short key alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryIncrementShort(ulong shortKey)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var b = (int)((shortKey * Multiplier) >> _shift); ; b = (b + 1) & mask)
        {
            ref var slot = ref slots[b];
            if (slot.Count == 0) return false;
            if (slot.Key == shortKey)
            {
                slot.Count++;
                return true;
            }
        }
    }

    private int Find(ReadOnlySpan<byte> value, ulong key)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var b = (int)((key * Multiplier) >> _shift); ; b = (b + 1) & mask)
        {
            ref var slot = ref slots[b];
            if (slot.Count == 0) return -1;
            if (slot.Key == key && (key < LongKey || _arena.AsSpan(_offsets[slot.Entry], _lengths[slot.Entry]).SequenceEqual(value))) return b;
        }
    }

    /// <summary>The values as strings with their counts, in the order first seen.</summary>
    public Dictionary<string, long> ToDictionary()
    {
        var counts = Slot.CountsByEntry(_slots, Count);
        var result = new Dictionary<string, long>(Count, StringComparer.Ordinal);
        for (var i = 0; i < Count; i++) result.Add(Encoding.UTF8.GetString(_arena, _offsets[i], _lengths[i]), counts[i]);
        return result;
    }
}
