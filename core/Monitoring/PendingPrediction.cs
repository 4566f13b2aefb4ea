using Serverless.Core.Registry;
using Serverless.Core.Serving;

namespace Serverless.Core.Monitoring;

/// <summary>
/// A sampled request on its way to the prediction log: the rows as the request sent them (UTF-8 JSON objects, copied
/// off the request's buffer), the answers, and what is needed to write them later without touching the request again.
/// </summary>
internal sealed record PendingPrediction(
    string Model,
    ModelManifest Manifest,
    string RequestId,
    DateTimeOffset Time,
    byte[][] Rows,
    IReadOnlyList<RowPrediction> Outputs,
    bool Production,
    ModelMonitoringSettings Settings);
