using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>What the spec's <c>policy</c> means for an upload: the one place that reads it (replace when not given).</summary>
public static class DataPolicies
{
    /// <summary>The policy in force: the spec's, else <see cref="DataPolicy.Replace"/>.</summary>
    public static DataPolicy Of(ModelSpec spec) => spec.Policy ?? DataPolicy.Replace;

    /// <summary>
    /// The dataset version an upload's rows are appended to: <paramref name="latest"/> under policy append, else null (the
    /// upload replaces the data, or there is nothing yet to append to).
    /// </summary>
    public static DatasetManifest? AppendTarget(ModelSpec spec, DatasetManifest? latest) => Of(spec) == DataPolicy.Append ? latest : null;
}
