using System.Text.Json.Serialization;

namespace Serverless.Core.Serving;

/// <summary>The answer to a prediction request: the version that answered, the request's id and one prediction per row.</summary>
public sealed record PredictionResponse(string Model, string ModelVersion, string RequestId, IReadOnlyList<RowPrediction> Predictions)
{
    /// <summary>How answers are written: the API's camelCase JSON, on one line (indentation only costs bytes and time on the hottest route).</summary>
    public static readonly System.Text.Json.JsonSerializerOptions WireOptions = new(Storage.JsonBlobs.Options) { WriteIndented = false };
}

/// <summary>
/// One row's prediction, with only the fields its task has: regression a <see cref="Score"/>; binary a
/// <see cref="Label"/>, the <see cref="Probability"/> of the positive class (when the trainer is calibrated) and the raw
/// <see cref="Score"/>; multiclass a <see cref="Label"/> and per-class <see cref="Probabilities"/>. <see cref="Imputed"/>
/// names the fields that were missing and filled in by the model's featurization; it is left out when there are none.
/// </summary>
public sealed record RowPrediction
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? Probability { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, float>? Probabilities { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? Score { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Imputed { get; init; }
}
