using System.Runtime.CompilerServices;

namespace Serverless.Core.Datasets;

/// <summary>
/// An exact histogram over a range learnt while streaming: bins of equal width starting at a fixed origin; when a value
/// falls outside, the width doubles (adjacent bins merge) until it fits, so every count stays exact.
/// </summary>
internal sealed class StreamingHistogram(int bins)
{
    private readonly long[] _counts = new long[bins];
    private double _origin = double.NaN;
    private double _width;
    private double _inverseWidth;
    private readonly List<double> _pending = [];

    /// <summary>Where the first bin starts (NaN until the range is known); a value falls in bin (x - Origin) * InverseWidth.</summary>
    public double Origin => _origin;

    public double InverseWidth => _inverseWidth;

    public long[] Counts => _counts;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double x)
    {
        var index = (int)((x - _origin) * _inverseWidth);
        if ((uint)index < (uint)_counts.Length && x >= _origin)
        {
            _counts[index]++;
            return;
        }
        AddOutside(x);
    }

    /// <summary>A value before the range is known (kept until 256 are seen), or outside the current bins.</summary>
    public void AddOutside(double x)
    {
        if (double.IsNaN(_origin))
        {
            _pending.Add(x);
            if (_pending.Count < 256) return;
            Start();
            return;
        }
        Place(x);
    }

    private void Start()
    {
        var min = _pending.Min();
        var max = _pending.Max();
        _origin = min;
        _width = max > min ? (max - min) / bins * 1.0000001 : 1;
        _inverseWidth = 1 / _width;
        foreach (var v in _pending) Place(v);
        _pending.Clear();
    }

    private void Place(double x)
    {
        var index = (int)((x - _origin) * _inverseWidth);
        if ((uint)index < (uint)bins && x >= _origin)
        {
            _counts[index]++;
            return;
        }
        while (x < _origin)
        {
            // Grow to the left: the new range ends where the old one ended, with twice the width.
            var end = _origin + _width * bins;
            _width *= 2;
            var merged = new long[bins];
            for (var i = 0; i < bins; i++) merged[bins / 2 + i / 2] += _counts[i];
            Array.Copy(merged, _counts, bins);
            _origin = end - _width * bins;
            _inverseWidth = 1 / _width;
        }
        while (x >= _origin + _width * bins)
        {
            _width *= 2;
            var merged = new long[bins];
            for (var i = 0; i < bins; i++) merged[i / 2] += _counts[i];
            Array.Copy(merged, _counts, bins);
            _inverseWidth = 1 / _width;
        }
        index = (int)((x - _origin) * _inverseWidth);
        _counts[Math.Clamp(index, 0, bins - 1)]++;
    }

    public Histogram ToHistogram()
    {
        if (double.IsNaN(_origin))
        {
            if (_pending.Count == 0) return new Histogram([], []);
            Start();
        }
        return new Histogram([.. Enumerable.Range(0, bins + 1).Select(i => _origin + _width * i)], [.. _counts]);
    }
}
