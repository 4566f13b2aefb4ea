using System.Text.Json;
using Serverless.Core.Monitoring;
using Serverless.Core.Serving;

namespace Serverless.Tests.Monitoring;

/// <summary>A logged row's inputs read back as one element answer as the dictionary they were written from.</summary>
public sealed class JsonObjectFieldsTests
{
    [Fact]
    public void Entry_ReadBack_HasItsInputsAsWritten_AndWritesThemAgainUnchanged()
    {
        var line = """{"requestId":"r1","row":0,"time":"2026-11-26T17:00:00+00:00","modelVersion":"v1","inputs":{"distance":7.5,"city":"east","member":true,"note":null},"output":{"score":12.5}}""";

        var entry = JsonSerializer.Deserialize<PredictionLogEntry>(line, JsonLines.Options)!;

        Assert.IsType<JsonObjectFields>(entry.Inputs);
        Assert.Equal(4, entry.Inputs.Count);
        Assert.Equal(["distance", "city", "member", "note"], entry.Inputs.Keys);
        Assert.True(entry.Inputs.TryGetValue("distance", out var distance));
        Assert.Equal(7.5, distance.GetDouble());
        Assert.Equal("east", entry.Inputs["city"].GetString());
        Assert.Equal(JsonValueKind.True, entry.Inputs["member"].ValueKind);
        Assert.Equal(JsonValueKind.Null, entry.Inputs["note"].ValueKind);
        Assert.False(entry.Inputs.TryGetValue("City", out _));
        Assert.False(entry.Inputs.ContainsKey("email"));
        Assert.Throws<KeyNotFoundException>(() => entry.Inputs["email"]);
        Assert.Equal(line, JsonSerializer.Serialize(entry, JsonLines.Options));
    }

    [Fact]
    public void FieldGivenTwice_AnswersItsLastValue_AndCountsOnce()
    {
        var fields = new JsonObjectFields(JsonDocument.Parse("""{"a":1,"b":2,"a":3}""").RootElement);

        Assert.Equal(3, fields["a"].GetInt32());
        Assert.Equal(2, fields.Count);
        Assert.Equal([("a", 3), ("b", 2)], fields.Select(f => (f.Key, f.Value.GetInt32())));
    }

    [Fact]
    public void NotAnObject_IsAJsonError()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<PredictionLogEntry>(
            """{"requestId":"r1","row":0,"time":"2026-11-26T17:00:00+00:00","modelVersion":"v1","inputs":[1,2],"output":{"score":1}}""", JsonLines.Options));
    }
}
