using System.Collections.ObjectModel;
using System.Text;
using System.Text.Json;
using Serverless.Core.Api;
using Serverless.Core.Serving;

namespace Serverless.Tests.Serving;

/// <summary>The hand-written predict answer is, byte for byte, what the API's serializer options make of the same answer.</summary>
public sealed class PredictionJsonTests
{
    private static string Serializer(PredictionResponse response) => Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(response, ApiJson.Compact));

    private static string HandWritten(PredictionResponse response) => Encoding.UTF8.GetString(PredictionJson.Serialize(response));

    public static TheoryData<string> Answers => [.. Cases.Keys];

    private static readonly Dictionary<string, PredictionResponse> Cases = new()
    {
        ["regression"] = new("taxi", "v1", "0123456789abcdef", [new RowPrediction { Score = 15.1f }]),
        ["regression, imputed and unseen"] = new("taxi", "v12", "req-1",
        [
            new RowPrediction { Score = -0.000123456f, Imputed = ["trip_distance", "vendor_id"], UnseenCategories = ["payment_type"] },
            new RowPrediction { Score = 3.4028235e38f, Imputed = [] },
            new RowPrediction { Score = 1e-45f },
            new RowPrediction { Score = 0f },
        ]),
        ["binary, odd characters"] = new("churn", "v2", "a:b/c+d=e",
        [
            new RowPrediction { Label = "stäy \"quoted\" <b>&'+`", Probability = 0.99999994f, Score = 7.25f },
            new RowPrediction { Label = "leave", Probability = 0f, Score = -12.5f, Imputed = ["city\t1"] },
            new RowPrediction { Label = "😀 emoji\u0001control" },
        ]),
        ["multiclass"] = new("iris", "v3", "r",
        [
            new RowPrediction
            {
                Label = "versicolor",
                Probabilities = new Dictionary<string, float> { ["setosa"] = 0.01f, ["versicolor"] = 0.9f, ["vir\"ginica"] = 0.09f, ["é"] = 1e-7f },
            },
            new RowPrediction
            {
                Label = "setosa",
                Probabilities = new ReadOnlyDictionary<string, float>(new Dictionary<string, float> { ["setosa"] = 1f, ["b"] = 0f }),
                UnseenCategories = ["colour"],
            },
        ]),
        ["no rows"] = new("m", "v1", "id", []),
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void Serialize_IsWhatTheApiSerializerWrites(string answer)
    {
        var response = Cases[answer];

        Assert.Equal(Serializer(response), HandWritten(response));
    }

    [Fact]
    public void Serialize_LargeBatchThenSingleRow_BothAsTheSerializerWrites()
    {
        // A batch larger than the buffer a thread keeps, then a single row on the same thread.
        var batch = new PredictionResponse("taxi", "v1", "batch", [.. Enumerable.Range(0, 5000).Select(i => new RowPrediction { Score = i * 1.37f, Imputed = ["trip_distance"] })]);
        var single = Cases["regression"];

        Assert.True(PredictionJson.Serialize(batch).Length > 64 * 1024);
        Assert.Equal(Serializer(batch), HandWritten(batch));
        Assert.Equal(Serializer(single), HandWritten(single));
        Assert.Equal(Serializer(single), HandWritten(single));
    }
}
