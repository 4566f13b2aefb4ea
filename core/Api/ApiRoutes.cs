namespace Serverless.Core.Api;

/// <summary>
/// The route templates of SPEC.md, without the <c>api/</c> prefix both hosts add: the local host maps them and the
/// Functions app's HTTP triggers declare them, so the two route tables cannot drift apart.
/// </summary>
public static class ApiRoutes
{
    /// <summary>Every route is under this prefix (host.json's <c>routePrefix</c> on Azure).</summary>
    public const string Prefix = "api";

    public const string Health = "health";
    public const string Models = "models";
    public const string Model = "models/{model}";
    public const string Version = "models/{model}/versions/{version}";
    public const string Predict = "models/{model}/predict";
    public const string Feedback = "models/{model}/feedback";
    public const string Runs = "models/{model}/runs";
    public const string RegisterRun = "models/{model}/runs/{runId}/register";
    public const string Datasets = "models/{model}/datasets";
    public const string Spec = "models/{model}/spec";
    public const string Train = "models/{model}/train";
    public const string Promote = "models/{model}/promote";
    public const string Rollback = "models/{model}/rollback";
    public const string Drift = "models/{model}/drift";
    public const string DriftCheck = "models/{model}/drift/check";
    public const string Audit = "audit";
    public const string Aliases = "models/{model}/aliases";
    public const string Archive = "models/{model}/versions/{version}/archive";
    public const string ModelZip = "models/{model}/versions/{version}/model.zip";
    public const string CardMarkdown = "models/{model}/versions/{version}/card.md";
    public const string CardHtml = "models/{model}/versions/{version}/card.html";
    public const string DatasetProfile = "models/{model}/datasets/{datasetVersion}/profile";
    public const string Orchestrations = "orchestrations";
    public const string Orchestration = "orchestrations/{instanceId}";
    public const string Approve = "orchestrations/{instanceId}/approve";
    public const string Reject = "orchestrations/{instanceId}/reject";
    public const string Terminate = "orchestrations/{instanceId}/terminate";
    public const string RaiseEvent = "orchestrations/{instanceId}/raiseEvent/{eventName}";
    public const string OpenApi = "openapi.json";
    public const string Quarantine = "models/{model}/quarantine";
    public const string DriftHistogram = "models/{model}/drift/histogram";

    /// <summary>The dashboard page; the local host serves it at the root (<c>GET /</c>) too.</summary>
    public const string Dashboard = "dashboard";

    /// <summary>The path of one run's status.</summary>
    public static string OrchestrationPath(string instanceId) => $"/{Prefix}/{Orchestrations}/{Uri.EscapeDataString(instanceId)}";

    /// <summary>The path listing a model's training runs.</summary>
    public static string OrchestrationsOf(string model) => $"/{Prefix}/{Orchestrations}?model={Uri.EscapeDataString(model)}";

    /// <summary>The path of a model's dataset versions, duplicate uploads and quarantined files.</summary>
    public static string DatasetsOf(string model) => $"/{Prefix}/{Datasets.Replace("{model}", Uri.EscapeDataString(model), StringComparison.Ordinal)}";
    /// <summary>The path a model's predictions are asked at.</summary>
    public static string PredictOf(string model) => $"/{Prefix}/{Predict.Replace("{model}", Uri.EscapeDataString(model), StringComparison.Ordinal)}";

    /// <summary>The path listing every model.</summary>
    public static string ModelsPath => $"/{Prefix}/{Models}";

    /// <summary>The path of a model's spec.</summary>
    public static string SpecOf(string model) => $"/{Prefix}/{Spec.Replace("{model}", Uri.EscapeDataString(model), StringComparison.Ordinal)}";

    /// <summary>The path of a model's experiment runs (candidates).</summary>
    public static string RunsOf(string model) => $"/{Prefix}/{Runs.Replace("{model}", Uri.EscapeDataString(model), StringComparison.Ordinal)}";
}
