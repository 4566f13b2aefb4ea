using Serverless.Core.Api;
using Serverless.Core.Serving;

namespace Serverless.Tests.Serving;

/// <summary>
/// A row within the 32-bit range but far outside what a model was trained on (3e38) can make a linear score overflow or
/// a classifier's probabilities NaN: such an answer is refused as a 400 naming the rows, never served as "NaN".
/// </summary>
public sealed class NonFiniteAnswerTests
{
    [Fact]
    public void FiniteAnswers_AreServed()
    {
        PredictionService.CheckFinite([new RowPrediction { Score = 12.5f }, new RowPrediction { Label = "a", Probabilities = new Dictionary<string, float> { ["a"] = 0.9f, ["b"] = 0.1f } }]);
    }

    [Fact]
    public void AnOverflowedScoreOrANaNProbability_IsA400NamingEachRow()
    {
        var e = Assert.Throws<BadRequestException>(() => PredictionService.CheckFinite([
            new RowPrediction { Score = 1f },
            new RowPrediction { Score = float.PositiveInfinity },
            new RowPrediction { Label = "1", Probability = float.NaN, Score = 3f },
            new RowPrediction { Label = "", Probabilities = new Dictionary<string, float> { ["0"] = 0f, ["1"] = float.NaN } },
        ]));

        Assert.Equal(["rows[1]", "rows[2]", "rows[3]"], e.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("far outside the values it was trained on", e.Message, StringComparison.Ordinal);
    }
}
