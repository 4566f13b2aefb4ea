namespace Serverless.Core.Monitoring;

/// <summary>
/// Sorts finite doubles by an LSD radix sort on their bits (11-bit digits, passes whose digit is the same for every value
/// skipped). Written by hand because sorting is most of a drift check's cost on large windows and Array.Sort's
/// comparison sort took about three times as long on a million values; it gives the same order for finite values.
/// </summary>
public static class RadixSort
{
    private const int DigitBits = 11;
    private const int Buckets = 1 << DigitBits;
    private const int Passes = (64 + DigitBits - 1) / DigitBits;

    /// <summary>Below this many values a comparison sort is as fast.</summary>
    private const int Threshold = 4096;

    public static void Sort(double[] values)
    {
        var n = values.Length;
        if (n < Threshold)
        {
            Array.Sort(values);
            return;
        }
        var keys = new ulong[n];
        var counts = new int[Passes * Buckets];
        for (var i = 0; i < n; i++)
        {
            var bits = BitConverter.DoubleToUInt64Bits(values[i]);
            // Negative numbers reversed, positive ones above them: unsigned order is numeric order.
            var key = (bits & 0x8000000000000000UL) != 0 ? ~bits : bits | 0x8000000000000000UL;
            keys[i] = key;
            for (var p = 0; p < Passes; p++) counts[p * Buckets + (int)((key >> (p * DigitBits)) & (Buckets - 1))]++;
        }
        var buffer = new ulong[n];
        for (var p = 0; p < Passes; p++)
        {
            var shift = p * DigitBits;
            var offset = p * Buckets;
            if (counts[offset + (int)((keys[0] >> shift) & (Buckets - 1))] == n) continue;
            var sum = 0;
            for (var b = 0; b < Buckets; b++)
            {
                var c = counts[offset + b];
                counts[offset + b] = sum;
                sum += c;
            }
            for (var i = 0; i < n; i++)
            {
                var key = keys[i];
                buffer[counts[offset + (int)((key >> shift) & (Buckets - 1))]++] = key;
            }
            (keys, buffer) = (buffer, keys);
        }
        for (var i = 0; i < n; i++)
        {
            var key = keys[i];
            values[i] = BitConverter.UInt64BitsToDouble((key & 0x8000000000000000UL) != 0 ? key & 0x7FFFFFFFFFFFFFFFUL : ~key);
        }
    }
}
