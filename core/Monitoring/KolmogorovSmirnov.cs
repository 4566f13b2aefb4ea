namespace Serverless.Core.Monitoring;

/// <summary>The two-sample Kolmogorov–Smirnov statistic and its two-sided p-value, and which way the p-value was computed.</summary>
public readonly record struct KsResult(double Statistic, double PValue, bool Exact);

/// <summary>
/// The two-sample Kolmogorov–Smirnov test as <c>scipy.stats.ks_2samp</c> computes it (two-sided, <c>method="auto"</c>): the
/// exact distribution of the statistic when both samples hold at most 10,000 values, else the exact one-sample Kolmogorov
/// distribution at the effective size round(n·m/(n+m)) (scipy's <c>kstwo.sf</c>). Written by hand because no served .NET
/// library has the exact two-sample distribution or scipy's choice of algorithm per region of the one-sample one
/// (Simard and L'Ecuyer 2011: Ruben–Gambino, Durbin matrix, Pomeranz, Pelz–Good, Smirnov's sum); the statistics match
/// scipy to 1e-6 on the vectors in tests/data/drift.
/// </summary>
public static class KolmogorovSmirnov
{
    /// <summary>scipy's MAX_AUTO_N: the exact two-sample distribution is used while both samples are at most this large.</summary>
    public const int MaxExactN = 10000;

    /// <summary>The test on two samples sorted ascending, without NaNs; both must hold at least one value.</summary>
    public static KsResult Test(ReadOnlySpan<double> sortedA, ReadOnlySpan<double> sortedB)
    {
        var (d, _) = TwoSampleWalk.Run(sortedA, sortedB, wasserstein: false);
        return PValue(d, sortedA.Length, sortedB.Length);
    }

    /// <summary>The two-sided p-value of the statistic <paramref name="d"/> for samples of sizes <paramref name="n1"/> and <paramref name="n2"/>.</summary>
    public static KsResult PValue(double d, int n1, int n2)
    {
        if (n1 <= 0 || n2 <= 0) throw new ArgumentException("Both samples must hold at least one value.");
        if (Math.Max(n1, n2) <= MaxExactN)
        {
            var g = (int)Gcd(n1, n2);
            var lcm = (long)(n1 / g) * n2;
            var h = (long)Math.Round(d * lcm, MidpointRounding.ToEven);
            var exactD = (double)h / lcm;
            if (h == 0) return new KsResult(exactD, 1.0, true);
            var prob = n1 == n2 ? ProbOutsideSquare(n1, (int)h) : OuterProbInsideMethod(n1, n2, g, h);
            if (double.IsFinite(prob) && prob is >= 0 and <= 1) return new KsResult(exactD, prob, true);
            d = exactD;
        }
        var m = (double)Math.Max(n1, n2);
        var n = (double)Math.Min(n1, n2);
        var en = Math.Round(m * n / (m + n), MidpointRounding.ToEven);
        return new KsResult(d, Math.Clamp(KolmogorovSf((long)en, d), 0, 1), false);
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    /// <summary>Pr(D_{n,n} ≥ h/n) (scipy's <c>_compute_prob_outside_square</c>).</summary>
    private static double ProbOutsideSquare(int n, int h)
    {
        var p = 0.0;
        for (var k = n / h; k >= 0; k--)
        {
            var p1 = 1.0;
            for (var j = 0; j < h; j++) p1 = (n - (double)k * h - j) * p1 / (n + (double)k * h + j + 1);
            p = p1 * (1.0 - p);
        }
        return 2 * p;
    }

    /// <summary>
    /// The share of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| &lt; h/lcm (scipy's
    /// <c>_compute_outer_prob_inside_method</c>: one sliding column, kept as probabilities).
    /// </summary>
    private static double OuterProbInsideMethod(long m, long n, long g, long h)
    {
        if (m < n) (m, n) = (n, m);
        var mg = m / g;
        var ng = n / g;
        long minj = 0, maxj = Math.Min((long)Math.Ceiling((double)h / mg), n + 1);
        var curlen = maxj - minj;
        var lenA = Math.Min(2 * maxj + 2, n + 1);
        // a[j]: the probability that a path to (i, minj + j) has left the band; 1 outside it, 0 for the first column's inside.
        var a = new double[lenA];
        Array.Fill(a, 1.0);
        Array.Fill(a, 0.0, (int)minj, (int)(maxj - minj));
        for (long i = 1; i <= m; i++)
        {
            var lastminj = minj;
            var lastlen = curlen;
            minj = Math.Max((long)Math.Floor((double)(ng * i - h) / mg) + 1, 0);
            minj = Math.Min(minj, n);
            maxj = Math.Min((long)Math.Ceiling((double)(ng * i + h) / mg), n + 1);
            if (maxj <= minj) return 1.0;
            var val = minj == 0 ? 0.0 : 1.0;
            for (long jj = 0; jj < maxj - minj; jj++)
            {
                var j = jj + minj;
                val = (a[jj + minj - lastminj] * i + val * j) / (i + j);
                a[jj] = val;
            }
            curlen = maxj - minj;
            if (lastlen > curlen) Array.Fill(a, 1.0, (int)(maxj - minj), (int)(lastlen - curlen));
        }
        return a[maxj - minj - 1];
    }

    /// <summary>Pr(D_n ≥ x) of the one-sample two-sided Kolmogorov distribution (scipy's <c>kstwo.sf</c>, <c>_kolmogn(cdf=False)</c>).</summary>
    public static double KolmogorovSf(long n, double x)
    {
        if (n <= 0 || double.IsNaN(x)) return double.NaN;
        if (x >= 1.0) return 0.0;
        if (x <= 0.0) return 1.0;
        var t = n * x;
        if (t <= 1.0)
        {
            if (t <= 0.5) return 1.0;
            double prob;
            if (n <= 140)
            {
                prob = 1.0;
                for (var i = 1; i <= n; i++) prob *= i * (1.0 / n) * (2 * t - 1);
            }
            else
            {
                prob = Math.Exp(LogNFactorialOverNPowN(n) + n * Math.Log(2 * t - 1));
            }
            return Clip(1.0 - prob);
        }
        if (t >= n - 1) return Clip(2 * Math.Pow(1.0 - x, n));
        if (x >= 0.5) return Clip(2 * SmirnovSf(n, x));

        var nxSquared = t * x;
        if (n <= 140)
        {
            if (nxSquared <= 0.754693) return Clip(1.0 - DurbinMatrixCdf(n, x));
            if (nxSquared <= 4) return Clip(1.0 - PomeranzCdf(n, x));
            return Clip(2 * SmirnovSf(n, x));
        }
        if (nxSquared >= 370.0) return 0.0;
        if (nxSquared >= 2.2) return Clip(2 * SmirnovSf(n, x));
        double cdf;
        if (nxSquared >= 18.0) cdf = 1.0;
        else if (n <= 100000 && n * Math.Pow(x, 1.5) <= 1.4) cdf = DurbinMatrixCdf(n, x);
        else cdf = PelzGoodCdf(n, x);
        return Clip(1.0 - cdf);
    }

    private static double Clip(double p) => Math.Clamp(p, 0.0, 1.0);

    private static readonly double[] StirlingCoefficients =
    [
        -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
        -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
    ];

    private static double LogNFactorialOverNPowN(long n)
    {
        var rn = 1.0 / n;
        var x = rn / n;
        var poly = 0.0;
        foreach (var c in StirlingCoefficients) poly = poly * x + c;
        return Math.Log(n) / 2 - n + Math.Log(2 * Math.PI) / 2 + rn * poly;
    }

    /// <summary>
    /// The one-sided Smirnov survival function Pr(D_n⁺ ≥ x) by the exact Birnbaum–Tingey sum
    /// x·Σ_j C(n,j)(1−x−j/n)^(n−j)(x+j/n)^(j−1), with every term in logarithms (scipy's <c>special.smirnov</c>).
    /// </summary>
    public static double SmirnovSf(long n, double x)
    {
        if (x <= 0) return 1.0;
        if (x >= 1) return 0.0;
        if (n == 1) return x;
        var last = (long)Math.Floor(n * (1 - x));
        var logChoose = 0.0;
        var sum = 0.0;
        for (long j = 0; j <= last; j++)
        {
            if (j > 0) logChoose += Math.Log((double)(n - j + 1) / j);
            var low = 1 - x - (double)j / n;
            if (low <= 0) break;
            var log = logChoose + (n - j) * Math.Log(low) + (j - 1) * Math.Log(x + (double)j / n);
            sum += Math.Exp(log);
        }
        return x * sum;
    }

    private const double Ep128 = 3.402823669209385e38; // 2^128
    private const double Em128 = 1.0 / Ep128;

    /// <summary>Pr(D_n ≤ d) by Durbin's matrix, as Marsaglia, Tsang and Wang compute it (scipy's <c>_kolmogn_DMTW</c>).</summary>
    private static double DurbinMatrixCdf(long n, double d)
    {
        if (d >= 1.0) return 1.0;
        var nd = n * d;
        if (nd <= 0.5) return 0.0;
        var k = (int)Math.Ceiling(nd);
        var h = k - nd;
        var m = 2 * k - 1;
        var v = new double[m];
        var w = new double[m];
        var fac = 1.0;
        for (var j = 1; j <= m; j++)
        {
            v[j - 1] = 1.0 - Math.Pow(h, j);
            w[j - 1] = fac;
            fac /= j;
            v[j - 1] *= fac;
        }
        var tt = Math.Pow(Math.Max(2 * h - 1.0, 0), m) - 2 * Math.Pow(h, m);
        v[m - 1] = (1.0 + tt) * fac;

        var hm = new double[m, m];
        for (var i = 1; i < m; i++)
        {
            for (var r = i - 1; r < m; r++) hm[r, i] = w[r - (i - 1)];
        }
        for (var r = 0; r < m; r++) hm[r, 0] = v[r];
        for (var c = 0; c < m; c++) hm[m - 1, c] = v[m - 1 - c];

        var power = new double[m, m];
        for (var i = 0; i < m; i++) power[i, i] = 1.0;
        var nn = n;
        var exponent = 0;
        var hExponent = 0;
        while (nn > 0)
        {
            if (nn % 2 == 1)
            {
                power = Multiply(power, hm);
                exponent += hExponent;
            }
            hm = Multiply(hm, hm);
            hExponent *= 2;
            if (Math.Abs(hm[k - 1, k - 1]) > Ep128)
            {
                for (var r = 0; r < m; r++) for (var c = 0; c < m; c++) hm[r, c] /= Ep128;
                hExponent += 128;
            }
            nn /= 2;
        }
        var p = power[k - 1, k - 1];
        for (long i = 1; i <= n; i++)
        {
            p = i * p / n;
            if (Math.Abs(p) < Em128)
            {
                p *= Ep128;
                exponent -= 128;
            }
        }
        if (exponent != 0) p = Math.ScaleB(p, exponent);
        return Clip(p);
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        var m = a.GetLength(0);
        var result = new double[m, m];
        var row = new double[m];
        for (var i = 0; i < m; i++)
        {
            Array.Clear(row);
            for (var k = 0; k < m; k++)
            {
                var aik = a[i, k];
                if (aik == 0) continue;
                for (var j = 0; j < m; j++) row[j] += aik * b[k, j];
            }
            for (var j = 0; j < m; j++) result[i, j] = row[j];
        }
        return result;
    }

    /// <summary>Pr(D_n ≤ x) by Pomeranz's recursion (scipy's <c>_kolmogn_Pomeranz</c>).</summary>
    private static double PomeranzCdf(long nLong, double x)
    {
        var n = (int)nLong;
        var t = n * x;
        var ll = (int)Math.Floor(t);
        var f = t - ll;
        var g = Math.Min(f, 1.0 - f);
        var ceilf = f > 0 ? 1 : 0;
        var roundf = f > 0.5 ? 1 : 0;
        var npwrs = 2 * (ll + 1);
        var gpower = new double[npwrs];
        var twogpower = new double[npwrs];
        var onem2gpower = new double[npwrs];
        gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
        var expnt = 0;
        double gn = g / n, twogn = 2 * g / n, onem2gn = (1 - 2 * g) / n;
        for (var m = 1; m < npwrs; m++)
        {
            gpower[m] = gpower[m - 1] * gn / m;
            twogpower[m] = twogpower[m - 1] * twogn / m;
            onem2gpower[m] = onem2gpower[m - 1] * onem2gn / m;
        }
        var v0 = new double[npwrs];
        var v1 = new double[npwrs];
        v1[0] = 1;
        int v0s = 0, v1s = 0;
        var (j1, j2) = PomeranzJ1J2(0, n, ll, ceilf, roundf);
        for (var i = 1; i < 2 * n + 2; i++)
        {
            var k1 = j1;
            (v0, v1) = (v1, v0);
            (v0s, v1s) = (v1s, v0s);
            Array.Clear(v1);
            (j1, j2) = PomeranzJ1J2(i, n, ll, ceilf, roundf);
            var pwrs = i == 1 || i == 2 * n + 1 ? gpower : i % 2 == 1 ? twogpower : onem2gpower;
            var ln2 = j2 - k1 + 1;
            if (ln2 > 0)
            {
                var convStart = j1 - k1;
                var convLen = j2 - j1 + 1;
                var max = 0.0;
                for (var c = 0; c < convLen; c++)
                {
                    // conv[q] = Σ_r V0[k1 - v0s + r] · pwrs[q - r], the full convolution of the two length-ln2 slices.
                    var q = convStart + c;
                    var s = 0.0;
                    for (var r = Math.Max(0, q - ln2 + 1); r <= Math.Min(q, ln2 - 1); r++) s += v0[k1 - v0s + r] * pwrs[q - r];
                    v1[c] = s;
                    max = Math.Max(max, s);
                }
                if (max > 0 && max < Em128)
                {
                    for (var c = 0; c < v1.Length; c++) v1[c] *= Ep128;
                    expnt -= 128;
                }
                v1s = v0s + j1 - k1;
            }
        }
        var ans = v1[n - v1s];
        for (var m = 1; m <= n; m++)
        {
            if (Math.Abs(ans) > Ep128)
            {
                ans *= Em128;
                expnt += 128;
            }
            ans *= m;
        }
        if (expnt != 0) ans = Math.ScaleB(ans, expnt);
        return Clip(ans);
    }

    private static (int J1, int J2) PomeranzJ1J2(int i, int n, int ll, int ceilf, int roundf)
    {
        int j1, j2;
        if (i == 0)
        {
            (j1, j2) = (-ll - ceilf - 1, ll + ceilf - 1);
        }
        else
        {
            var ip1div2 = (i + 1) / 2;
            if ((i + 1) % 2 == 0)
            {
                (j1, j2) = ip1div2 == n + 1
                    ? (n - ll - ceilf - 1, n + ll + ceilf - 1)
                    : (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1);
            }
            else
            {
                (j1, j2) = (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1);
            }
        }
        return (Math.Max(j1 + 2, 0), Math.Min(j2, n));
    }

    /// <summary>The Pelz–Good approximation of Pr(D_n ≤ x) for large n (scipy's <c>_kolmogn_PelzGood</c>).</summary>
    private static double PelzGoodCdf(long n, double x)
    {
        if (x <= 0.0) return 0.0;
        if (x >= 1.0) return 1.0;
        var z = Math.Sqrt(n) * x;
        double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
        const double pi2 = Math.PI * Math.PI;
        const double pi4 = pi2 * pi2;
        const double pi6 = pi4 * pi2;
        var sqrt2Pi = Math.Sqrt(2 * Math.PI);
        var qlog = -pi2 / 8 / z2;
        if (qlog < -708) return 0.0;
        var q = Math.Exp(qlog);

        var k1a = -z2;
        var k1b = pi2 / 4;
        var k2a = 6 * z6 + 2 * z4;
        var k2b = (2 * z4 - 5 * z2) * pi2 / 4;
        var k2c = pi4 * (1 - 2 * z2) / 16;
        var k3d = pi6 * (5 - 30 * z2) / 64;
        var k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
        var k3b = pi2 * (135 * z4 - 96 * z6) / 4;
        var k3a = -30 * z6 - 90 * Math.Pow(z, 8);

        Span<double> k = stackalloc double[4];
        var maxk = (int)Math.Ceiling(16 * z / Math.PI);
        for (var kk = maxk; kk > 0; kk--)
        {
            double m = 2 * kk - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
            var qpower = Math.Pow(q, 8 * kk);
            k[0] = k[0] * qpower + 1.0;
            k[1] = k[1] * qpower + k1a + k1b * m2;
            k[2] = k[2] * qpower + k2a + k2b * m2 + k2c * m4;
            k[3] = k[3] * qpower + k3a + k3b * m2 + k3c * m4 + k3d * m6;
        }
        ReadOnlySpan<double> divisors = [z, 6 * z4, 72 * Math.Pow(z, 7), 6480 * Math.Pow(z, 10)];
        for (var i = 0; i < 4; i++) k[i] = k[i] * q * sqrt2Pi / divisors[i];

        var q2 = Math.Exp(-pi2 / 2 / z2);
        var sqrt3z = Math.Sqrt(3) * z;
        double k2extra = 0, k3extra = 0;
        for (var kk = maxk; kk > 0; kk--)
        {
            var ks2 = (double)kk * kk;
            var qp = Math.Pow(q2, ks2);
            var kspi = Math.PI * kk;
            k2extra += ks2 * qp;
            k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
        }
        k[2] += k2extra * pi2 * sqrt2Pi / (-36 * z3);
        k[3] += k3extra * pi2 * sqrt2Pi / (216 * z6);
        var sum = 0.0;
        for (var i = 0; i < 4; i++) sum += k[i] / Math.Pow(n, i / 2.0);
        return sum;
    }
}
