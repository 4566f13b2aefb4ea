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
    /// only; <paramref name="warmUp"/> false leaves out the trainers' start-up warm-up. The drift timer is off: a model
    /// never checked is due at the timer's next five-minute tick, and that check (a second or more of CPU over the
    /// prediction log) would land inside whatever is being timed then; the serving benchmark times a check on its own.
    /// </summary>
    public static (WebApplication App, string Url) Create(AzuriteProcess azurite, string suffix, bool warmUp)
    {
        var url = $"http://127.0.0.1:{AzuriteProcess.FreePort()}";
        var config = IsolatedLayout.Settings(azurite.ConnectionString, suffix);
        config["urls"] = url;
        config["Logging:LogLevel:Default"] = "Warning";
        if (!warmUp) config["Pipeline:Training:WarmUp"] = "false";
        config[$"{Serverless.Core.Monitoring.DriftOptions.Section}:{nameof(Serverless.Core.Monitoring.DriftOptions.Timer)}"] = "false";
        return (LocalHostApp.Create([.. config.Select(kv => $"--{kv.Key}={kv.Value}")]), url);
    }
}
