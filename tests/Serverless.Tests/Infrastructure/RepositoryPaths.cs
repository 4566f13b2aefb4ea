using Serverless.Testing;

namespace Serverless.Tests.Infrastructure;

/// <summary>Paths of the repository and of the shared data sets beside it.</summary>
public static class RepositoryPaths
{
    public static string Root => AzuriteProcess.RepositoryRoot;

    /// <summary>
    /// The test copies of the public data sets (<c>tests/data</c>, slices of <c>../shared/datasets</c>), so the suite
    /// needs nothing beside the checkout.
    /// </summary>
    public static string Datasets => Path.Combine(Root, "tests", "data");

    public static string Dataset(params string[] parts) => Path.Combine([Datasets, .. parts]);
}
