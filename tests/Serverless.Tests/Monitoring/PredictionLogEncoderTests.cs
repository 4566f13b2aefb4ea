using System.Buffers;
using System.Text;
using System.Text.Json;
using Serverless.Core.Monitoring;
using Serverless.Core.Serving;

namespace Serverless.Tests.Monitoring;

/// <summary>The hand-written encoder of log lines writes what the serializer writes for the same entry, and the reader reads it back.</summary>
public sealed class PredictionLogEncoderTests
{
    public static TheoryData<string> Outputs => new()
    {
        "regression",
        "binary",
        "multiclass",
        "imputed",
        "shadow",
    };

    [Theory]
    [MemberData(nameof(Outputs))]
    public void WriteLine_AnyTaskAnswer_EqualsTheSerializersLine(string kind)
    {
        const string row = """{ "distance" : 7.5, "member":true, "city":"caf\u00e9 \"east\"", "note":null, "email":"ann@example.com", "n":-1e3 }""";
        var output = Output(kind);
        var shadow = kind == "shadow" ? new RowPrediction { Score = 2.5f } : null;
        var time = new DateTimeOffset(2026, 11, 26, 6, 1, 2, 345, TimeSpan.Zero).AddTicks(6789);
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, PredictionLogEncoder.WriterOptions);

        PredictionLogEncoder.WriteLine(writer, buffer, "req-1", 3, time, "v2", Encoding.UTF8.GetBytes(row), new HashSet<string> { "email" }, output,
            shadow is null ? null : "v3", shadow);

        using var document = JsonDocument.Parse(row);
        var expected = new PredictionLogEntry
        {
            RequestId = "req-1", Row = 3, Time = time, ModelVersion = "v2",
            Inputs = document.RootElement.EnumerateObject().Where(p => p.Name != "email").ToDictionary(p => p.Name, p => p.Value),
            Output = output, ShadowVersion = shadow is null ? null : "v3", ShadowOutput = shadow,
        };
        Assert.Equal(JsonSerializer.Serialize(expected, JsonLines.Options) + "\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
        var read = Assert.Single(PredictionLogReader.Parse(new BinaryData(buffer.WrittenMemory)));
        Assert.Equal("café \"east\"", read.Inputs["city"].GetString());
        Assert.DoesNotContain("email", read.Inputs.Keys);
    }

    /// <summary>
    /// Rows copied whole (minified, nothing the encoder escapes) and rows that are not (a plus sign, angle brackets, an
    /// apostrophe or ampersand the encoder escapes, whitespace, non-ASCII, an escape), each with nothing sensitive: every
    /// one is the serializer's line.
    /// </summary>
    public static TheoryData<string> Rows => new()
    {
        """{"distance":7.5,"member":true,"city":"east","note":null,"n":-1e3}""",
        """{"distance":7.5,"city":"a+b"}""",
        """{"city":"<east>","who":"o'neil & co"}""",
        """{"city":"east", "distance":1}""",
        """{"city":"café"}""",
        """{"city":"café"}""",
        """{"city":"tab\there","quote":"\"q\""}""",
        """{"n":1e+3,"m":2}""",
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void WriteLine_RowWithNothingSensitive_EqualsTheSerializersLine(string row)
    {
        var time = new DateTimeOffset(2026, 11, 26, 6, 1, 2, TimeSpan.Zero);
        var output = new RowPrediction { Score = 2.5f };
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, PredictionLogEncoder.WriterOptions);

        PredictionLogEncoder.WriteLine(writer, buffer, "req-2", 0, time, "v1", Encoding.UTF8.GetBytes(row), new HashSet<string>(), output, null, null);

        using var document = JsonDocument.Parse(row);
        var expected = new PredictionLogEntry
        {
            RequestId = "req-2", Row = 0, Time = time, ModelVersion = "v1",
            Inputs = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value), Output = output,
        };
        Assert.Equal(JsonSerializer.Serialize(expected, JsonLines.Options) + "\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static RowPrediction Output(string kind) => kind switch
    {
        "regression" => new RowPrediction { Score = 15.123456f },
        "binary" => new RowPrediction { Label = "stay", Probability = 0.8125f, Score = float.NaN },
        "multiclass" => new RowPrediction { Label = "gold", Probabilities = new Dictionary<string, float> { ["bronze"] = 0.1f, ["gold"] = 0.7f, ["silver"] = 0.2f } },
        "imputed" => new RowPrediction { Score = -1.5f, Imputed = ["distance", "city"] },
        _ => new RowPrediction { Score = 1e-7f },
    };
}

/// <summary>Sampling by request id: the same id decides the same way everywhere, and the share logged is the rate.</summary>
public sealed class PredictionSamplingTests
{
    [Fact]
    public void IsSampled_TenThousandIds_PicksTheRateShareAndTheSameIdsEachTime()
    {
        var ids = Enumerable.Range(0, 10_000).Select(i => $"request-{i}").ToList();

        var first = ids.Where(id => PredictionSampling.IsSampled(id, 0.25)).ToList();
        var second = ids.Where(id => PredictionSampling.IsSampled(id, 0.25)).ToList();

        Assert.Equal(first, second);
        Assert.InRange(first.Count, 2300, 2700);
    }

    [Fact]
    public void IsSampled_RateZeroOrOne_NeverOrAlways()
    {
        Assert.True(PredictionSampling.IsSampled("any", 1));
        Assert.False(PredictionSampling.IsSampled("any", 0));
    }
}
