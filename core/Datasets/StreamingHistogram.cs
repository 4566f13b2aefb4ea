using System.Globalization;
using System.Runtime.CompilerServices;

namespace Serverless.Core.Datasets;

/// <summary>
/// An exact histogram over a range learnt while streaming. Its bins have a round width (1, 2, 2.5 or 5 times a power of
/// ten, doubled as the range grows) and start at a whole multiple of it, so the edges a person reads (3.2, not
/// 3.2000001) are where the counts change: a value on an edge is counted in the bin that starts there, as the edges read.
/// When a value falls outside, the width doubles (adjacent bins merge, each edge still a multiple of the new width) until
/// it fits, so every count stays exact; a column of values at or above zero keeps its first edge at or above zero.
/// </summary>
internal sealed class StreamingHistogram(int bins)
{
    /// <summary>
    /// How far below an edge, in bins, a value still counts as on it: a product of a value and a width such as 0.1 is off
    /// by an ulp or so, and 3.2 must land where the edge 3.2 (32 times 0.1) says. <see cref="Histogram.BinOf"/> uses it too.
    /// </summary>
    internal const double EdgeTolerance = 1e-6;

    private readonly long[] _counts = new long[bins];
    private double _width;
    private double _inverseWidth;
    /// <summary>The first bin's start in widths (a whole number): the first bin starts at <c>_start * _width</c>.</summary>
    private double _start = double.NaN;
    private double _shift = double.NaN;
    private readonly List<double> _pending = [];

    /// <summary>With <see cref="Shift"/>: a value x falls in bin <c>(int)(x * InverseWidth + Shift)</c> when that is from 0 to the last bin (NaN shift until the range is known).</summary>
    public double InverseWidth => _inverseWidth;

    public double Shift => _shift;

    public long[] Counts => _counts;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double x)
    {
        var at = x * _inverseWidth + _shift;
        var index = (int)at;
        if ((uint)index < (uint)_counts.Length && at >= 0)
        {
            _counts[index]++;
            return;
        }
        AddOutside(x);
    }

    /// <summary>A value before the range is known (kept until 256 are seen), or outside the current bins.</summary>
    public void AddOutside(double x)
    {
        if (double.IsNaN(_start))
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
        SetWidth(RoundWidth(max > min ? (max - min) / bins : Math.Max(Math.Abs(min), 1) / bins), min);
        // The first edge is a multiple of the width at or below the smallest value, so the largest may not fit yet.
        while (Bin(max) - _start >= bins) SetWidth(RoundWidth(_width * 1.5), min);
        foreach (var v in _pending) Place(v);
        _pending.Clear();
    }

    private void SetWidth(double width, double lowest)
    {
        _width = width;
        _inverseWidth = 1 / width;
        _start = Bin(lowest);
        _shift = EdgeTolerance - _start;
    }

    /// <summary>The bin of <paramref name="x"/> counted in widths from zero.</summary>
    private double Bin(double x) => Math.Floor(x * _inverseWidth + EdgeTolerance);

    /// <summary>The smallest width of 1, 2, 2.5 or 5 times a power of ten that is at least <paramref name="least"/>.</summary>
    internal static double RoundWidth(double least)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(least)));
        foreach (var step in (ReadOnlySpan<double>)[1, 2, 2.5, 5, 10])
        {
            if (step * power >= least * (1 - 1e-12)) return step * power;
        }
        return 10 * power;
    }

    private void Place(double x)
    {
        var at = x * _inverseWidth + _shift;
        if (at >= 0 && at < bins)
        {
            _counts[(int)at]++;
            return;
        }
        // Double the width until the bins hold both what they held and x. Every edge is a multiple of the width, so old
        // bin k (counted in widths from zero) lies whole in new bin floor(k / factor).
        var oldStart = _start;
        var factor = 1.0;
        double start;
        do
        {
            factor *= 2;
            _width *= 2;
            _inverseWidth = 1 / _width;
            start = Math.Min(Math.Floor(oldStart / factor), Bin(x));
        }
        while (Bin(x) >= start + bins || Math.Floor((oldStart + bins - 1) / factor) >= start + bins);
        var merged = new long[bins];
        for (var i = 0; i < bins; i++) merged[(int)(Math.Floor((oldStart + i) / factor) - start)] += _counts[i];
        Array.Copy(merged, _counts, bins);
        _start = start;
        _shift = EdgeTolerance - start;
        _counts[(int)(Bin(x) - start)]++;
    }

    public Histogram ToHistogram()
    {
        if (double.IsNaN(_start))
        {
            if (_pending.Count == 0) return new Histogram([], []);
            Start();
        }
        // Empty bins at either end say nothing: the histogram runs from the first bin with a value to the last.
        var first = Array.FindIndex(_counts, c => c > 0);
        var last = Array.FindLastIndex(_counts, c => c > 0);
        if (first < 0) first = last = 0;
        return new Histogram([.. Enumerable.Range(first, last - first + 2).Select(i => Edge(_start + i))], [.. _counts[first..(last + 1)]]);
    }

    /// <summary>An edge as a person would write it: the multiple of the width, without the last digits a binary product adds (3.2, not 3.2000000000000006).</summary>
    private double Edge(double bin) => double.Parse((bin * _width).ToString("G14", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
