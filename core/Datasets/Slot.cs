namespace Serverless.Core.Datasets;

/// <summary>One slot of an open-addressing count table: a key, its count (0 when the slot is empty) and its insertion rank.</summary>
internal record struct Slot(ulong Key, long Count, int Entry)
{
    public static void Place(Slot[] slots, Slot slot, int shift, ulong multiplier)
    {
        var mask = slots.Length - 1;
        var b = (int)((slot.Key * multiplier) >> shift);
        while (slots[b].Count != 0) b = (b + 1) & mask;
        slots[b] = slot;
    }

    /// <summary>Doubles the table and re-places its slots; returns the new shift.</summary>
    public static int Grow(ref Slot[] slots, int shift, ulong multiplier)
    {
        var old = slots;
        slots = new Slot[old.Length * 2];
        foreach (var slot in old)
        {
            if (slot.Count != 0) Place(slots, slot, shift - 1, multiplier);
        }
        return shift - 1;
    }

    public static long[] CountsByEntry(Slot[] slots, int count)
    {
        var counts = new long[count];
        foreach (var slot in slots)
        {
            if (slot.Count != 0) counts[slot.Entry] = slot.Count;
        }
        return counts;
    }
}
