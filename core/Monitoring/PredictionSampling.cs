using System.IO.Hashing;
using System.Text;

namespace Serverless.Core.Monitoring;

/// <summary>
/// Whether a request is logged: decided from the hash of its id, so every host (and a later reader asking "was this
/// request logged?") decides the same for the same id and rate, and a batch's rows are logged together or not at all.
/// </summary>
public static class PredictionSampling
{
    public static bool IsSampled(string requestId, double rate)
    {
        if (rate >= 1) return true;
        if (rate <= 0 || double.IsNaN(rate)) return false;
        // XxHash3 (System.IO.Hashing, which the storage SDK brings) is stable across processes and runs, unlike string.GetHashCode.
        var max = Encoding.UTF8.GetMaxByteCount(requestId.Length);
        Span<byte> bytes = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(requestId, bytes);
        var hash = XxHash3.HashToUInt64(bytes[..length]);
        // The top 53 bits as a fraction in [0, 1).
        return (hash >> 11) * (1.0 / (1UL << 53)) < rate;
    }
}
