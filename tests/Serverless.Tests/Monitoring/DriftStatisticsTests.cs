using System.Text.Json.Nodes;
using Serverless.Core.Monitoring;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Monitoring;

/// <summary>
/// The drift statistics against scipy 1.10 (and Evidently's numpy formulas for PSI) on the fixed vectors of
/// tests/data/drift/scipy-vectors.json, written by tests/data/drift/make_vectors.py: every value within 1e-6.
/// </summary>
public sealed class DriftStatisticsTests
{
    private const double Tolerance = 1e-6;

    private static readonly Lazy<JsonObject> Vectors = new(() =>
        JsonNode.Parse(File.ReadAllText(RepositoryPaths.Dataset("drift", "scipy-vectors.json")))!.AsObject());

    public static TheoryData<string> Cases(string section) =>
        [.. Vectors.Value[section]!.AsArray().Select(c => (string)c!["name"]!)];

    public static TheoryData<string> KsCases => Cases("ks_2samp");
    public static TheoryData<string> WassersteinCases => Cases("wasserstein_distance");
    public static TheoryData<string> ChiSquareCases => Cases("chi2_contingency");
    public static TheoryData<string> JensenShannonCases => Cases("jensenshannon");
    public static TheoryData<string> ZTestCases => Cases("ztest");
    public static TheoryData<string> PsiCases => Cases("psi");

    public static TheoryData<long, double> KolmogorovPoints
    {
        get
        {
            var data = new TheoryData<long, double>();
            foreach (var c in Vectors.Value["kstwo_sf"]!.AsArray()) data.Add((long)c!["n"]!, (double)c["x"]!);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(KsCases))]
    public void KolmogorovSmirnov_FixedVectors_MatchesScipyKs2samp(string name)
    {
        var c = Case("ks_2samp", name);

        var result = KolmogorovSmirnov.Test(Sorted(c["a"]!), Sorted(c["b"]!));

        Assert.Equal((double)c["statistic"]!, result.Statistic, Tolerance);
        Assert.Equal((double)c["pvalue"]!, result.PValue, Tolerance);
        Assert.Equal((bool)c["exact"]!, result.Exact);
    }

    [Theory]
    [MemberData(nameof(KolmogorovPoints))]
    public void KolmogorovSf_EveryRegionOfScipy_MatchesKstwoSf(long n, double x)
    {
        var expected = (double)Vectors.Value["kstwo_sf"]!.AsArray().First(c => (long)c!["n"]! == n && (double)c["x"]! == x)!["sf"]!;

        Assert.Equal(expected, KolmogorovSmirnov.KolmogorovSf(n, x), Tolerance);
    }

    [Theory]
    [MemberData(nameof(WassersteinCases))]
    public void Wasserstein_FixedVectors_MatchesScipyAndEvidentlysNormalization(string name)
    {
        var c = Case("wasserstein_distance", name);
        var a = Sorted(c["a"]!);

        var distance = DriftStatistics.Wasserstein(a, Sorted(c["b"]!));

        Assert.Equal((double)c["distance"]!, distance, Tolerance);
        Assert.Equal((double)c["normalized"]!, DriftStatistics.NormalizedWasserstein(distance, a), Tolerance);
    }

    [Theory]
    [MemberData(nameof(ChiSquareCases))]
    public void ChiSquareContingency_FixedTables_MatchesScipy(string name)
    {
        var c = Case("chi2_contingency", name);

        var result = DriftStatistics.ChiSquareContingency(Numbers(c["reference"]!), Numbers(c["current"]!));

        Assert.Equal((double)c["statistic"]!, result.Statistic, Tolerance);
        Assert.Equal((double)c["pvalue"]!, result.PValue, Tolerance);
        Assert.Equal((int)c["dof"]!, result.DegreesOfFreedom);
    }

    [Theory]
    [MemberData(nameof(JensenShannonCases))]
    public void JensenShannon_FixedVectors_MatchesScipy(string name)
    {
        var c = Case("jensenshannon", name);

        Assert.Equal((double)c["distance"]!, DriftStatistics.JensenShannon(Numbers(c["p"]!), Numbers(c["q"]!)), Tolerance);
    }

    [Theory]
    [MemberData(nameof(ZTestCases))]
    public void ZTest_TwoProportions_MatchesNormalSf(string name)
    {
        var c = Case("ztest", name);

        var (z, p) = DriftStatistics.ZTest((double)c["referenceFirst"]!, (double)c["referenceTotal"]!, (double)c["currentFirst"]!, (double)c["currentTotal"]!);

        Assert.Equal((double)c["z"]!, z, Tolerance);
        Assert.Equal((double)c["pvalue"]!, p, Tolerance);
    }

    [Theory]
    [MemberData(nameof(PsiCases))]
    public void PsiAndJensenShannon_OnEvidentlysBins_MatchNumpy(string name)
    {
        var c = Case("psi", name);

        var (reference, current) = DriftStatistics.BinnedShares(Sorted(c["a"]!), Sorted(c["b"]!));

        Assert.Equal((double)c["psi"]!, DriftStatistics.Psi(reference, current), Tolerance);
        Assert.Equal((double)c["jensenshannon"]!, DriftStatistics.JensenShannon(reference, current), Tolerance);
    }

    [Fact]
    public void KolmogorovSmirnov_IdenticalSamples_StatisticZeroPValueOne()
    {
        double[] values = [1, 2, 3, 4, 5];

        var result = KolmogorovSmirnov.Test(values, values);

        Assert.Equal(0, result.Statistic);
        Assert.Equal(1, result.PValue);
    }

    private static JsonObject Case(string section, string name) =>
        Vectors.Value[section]!.AsArray().Single(c => (string)c!["name"]! == name)!.AsObject();

    private static double[] Numbers(JsonNode node) => [.. node.AsArray().Select(v => (double)v!)];

    private static double[] Sorted(JsonNode node)
    {
        var values = Numbers(node);
        Array.Sort(values);
        return values;
    }
}
