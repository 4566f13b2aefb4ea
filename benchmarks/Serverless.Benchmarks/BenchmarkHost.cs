using Microsoft.AspNetCore.Builder;
using Serverless.LocalHost;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>The local host as the end-to-end benchmarks run it: in this process, on a free loopback port, over its own layout of an Azurite account.</summary>
internal static class BenchmarkHost
{
    /// <summary>The shipped taxi data set (../shared/datasets/taxi beside the checkout).</summary>
    public static string TaxiFolder => Path.GetFullPath(Path.Combine(AzuriteProcess.RepositoryRoot, "..", "shared", "datasets", "taxi"));

    /// <summary>
    /// A local host (not started) on a free port with the isolated layout of <paramref name="suffix"/>, logging warnings
    /// only; <paramref name="warmUp"/> false leaves out the trainers' start-up warm-up.
    /// </summary>
    public static (WebApplication App, string Url) Create(AzuriteProcess azurite, string suffix, bool warmUp)
    {
        var url = $"http://127.0.0.1:{AzuriteProcess.FreePort()}";
        var config = IsolatedLayout.Settings(azurite.ConnectionString, suffix);
        config["urls"] = url;
        config["Logging:LogLevel:Default"] = "Warning";
        if (!warmUp) config["Pipeline:Training:WarmUp"] = "false";
        return (LocalHostApp.Create([.. config.Select(kv => $"--{kv.Key}={kv.Value}")]), url);
    }
}
