using Serverless.Testing;

namespace Serverless.Tests.Infrastructure;

/// <summary>Paths of the repository and of the shared data sets beside it.</summary>
public static class RepositoryPaths
{
    public static string Root => AzuriteProcess.RepositoryRoot;

    /// <summary><c>../shared/datasets</c> beside the checkout.</summary>
    public static string Datasets => Path.GetFullPath(Path.Combine(Root, "..", "shared", "datasets"));

    public static string Dataset(params string[] parts) => Path.Combine([Datasets, .. parts]);
}
