using System.Text.Json.Serialization;

namespace Serverless.Core.Serving;

/// <summary>The answer to a prediction request: the version that answered, the request's id and one prediction per row.</summary>
public sealed record PredictionResponse(string Model, string ModelVersion, string RequestId, IReadOnlyList<RowPrediction> Predictions);

/// <summary>
/// One row's prediction, with only the fields its task has: regression a <see cref="Score"/>; binary a
/// <see cref="Label"/>, the <see cref="Probability"/> of the positive class (when the trainer is calibrated) and the raw
/// <see cref="Score"/>; multiclass a <see cref="Label"/> and per-class <see cref="Probabilities"/>. <see cref="Imputed"/>
/// names the fields that were missing and filled in by the model's featurization, <see cref="UnseenCategories"/> the
/// categorical fields whose value the model never saw in training (scored as no category); each is left out when empty.
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

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? UnseenCategories { get; init; }
}
