using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Core.Training;

namespace Serverless.Tests.Api;

/// <summary>How the API writes JSON (<see cref="ApiJson"/>), the one version form, and audit details read from old rows.</summary>
public sealed class ApiJsonTests
{
    private static JsonObject Write(object value) => JsonNode.Parse(JsonSerializer.Serialize(value, ApiJson.Options))!.AsObject();

    [Fact]
    public void Serialize_PlusBackquoteApostropheAndAccents_AreWrittenAsThemselves()
    {
        var text = JsonSerializer.Serialize(new { Detail = "a+b `c` it's café <tag>" }, ApiJson.Options);

        Assert.Contains("a+b `c` it's café <tag>", text);
        Assert.DoesNotContain("\\u", text);
    }

    [Fact]
    public void Serialize_NullField_IsLeftOut()
    {
        var written = Write(new LoadedVersionWithNull("taxi", null));

        Assert.Equal(["model"], written.Select(p => p.Key));
    }

    [Theory]
    [InlineData(2.2345678901234567, "2.23457")]
    [InlineData(0.30000000000000004, "0.3")]
    [InlineData(0.00012345678901, "0.000123457")]
    [InlineData(12345678.9, "12345679")]
    [InlineData(1271.0, "1271")]
    [InlineData(-3.14159265358979, "-3.14159")]
    public void Serialize_Double_IsRoundedToSixSignificantDigits(double value, string expected)
    {
        var text = JsonSerializer.Serialize(new Dictionary<string, double> { ["rmse"] = value }, ApiJson.Options);

        Assert.Equal(expected, JsonNode.Parse(text)!["rmse"]!.ToJsonString());
    }

    [Fact]
    public void Serialize_NaN_IsWrittenAsTheStoredDocumentsWriteIt()
    {
        var written = Write(new Dictionary<string, double> { ["auc"] = double.NaN });

        Assert.Equal("NaN", written["auc"]!.GetValue<string>());
    }

    [Fact]
    public void Serialize_Float_IsWrittenShortestRoundTrip()
    {
        var written = Write(new Dictionary<string, float> { ["score"] = 12.3456789f, ["probability"] = 0.1f });

        Assert.Equal("12.345679", written["score"]!.ToJsonString());
        Assert.Equal("0.1", written["probability"]!.ToJsonString());
    }

    [Fact]
    public void Serialize_JsonHeldAsElementOrNode_HasItsFractionsRoundedAndIntegersKept()
    {
        var element = JsonDocument.Parse("""{"rmse":2.2345678901234567,"rows":12345678901,"nested":[0.123456789],"from":null}""").RootElement;

        var written = Write(new { Element = element, Node = JsonNode.Parse(element.GetRawText()) });

        foreach (var name in new[] { "element", "node" })
        {
            Assert.Equal("2.23457", written[name]!["rmse"]!.ToJsonString());
            Assert.Equal("12345678901", written[name]!["rows"]!.ToJsonString());
            Assert.Equal("0.123457", written[name]!["nested"]![0]!.ToJsonString());
            Assert.False(written[name]!.AsObject().ContainsKey("from"));
        }
    }

    [Fact]
    public void Serialize_Manifest_NamesTrainerAndParametersNotCandidate()
    {
        var written = Write(Manifest());

        Assert.Equal("FastTree", written["trainer"]!.GetValue<string>());
        Assert.Equal(20, written["parameters"]!["numberOfLeaves"]!.GetValue<int>());
        Assert.False(written.ContainsKey("candidate"));
        var stored = JsonNode.Parse(JsonSerializer.Serialize(Manifest(), Core.Storage.JsonBlobs.Options))!;
        Assert.Equal("FastTree", stored["candidate"]!["trainer"]!.GetValue<string>());
    }

    [Fact]
    public void Serialize_ExperimentRun_NamesItsMetricsValidationMetrics()
    {
        var run = new ExperimentRun("taxi", "r1", "o1", "ds1", "FastTree", new Dictionary<string, double>(), new Dictionary<string, double> { ["rmse"] = 2.5 },
            "succeeded", 1200.123456789, DateTimeOffset.UnixEpoch, null);

        var written = Write(run);

        Assert.Equal(2.5, written["validationMetrics"]!["rmse"]!.GetValue<double>());
        Assert.False(written.ContainsKey("metrics"));
        Assert.False(written.ContainsKey("error"));
        Assert.Equal("1200.12", written["durationMs"]!.ToJsonString());
    }

    [Theory]
    [InlineData("v1", "v1")]
    [InlineData("v12", "v12")]
    [InlineData("1", "v1")]
    [InlineData("12", "v12")]
    [InlineData("0", null)]
    [InlineData("v0", null)]
    [InlineData("01", null)]
    [InlineData("x1", null)]
    [InlineData("v", null)]
    [InlineData("", null)]
    public void NormalizeVersion_GivenForms_AreReadAsVNOrRefused(string given, string? expected)
    {
        Assert.Equal(expected, VersionNames.Normalize(given));
    }

    [Theory]
    [InlineData("FastTree", 0)]
    [InlineData("FastTree(numberOfLeaves=8)", 1)]
    [InlineData("LightGbm(learningRate=0.05, numberOfLeaves=31)", 2)]
    public void ParseCandidate_ItsDescription_GivesTheCandidateBack(string description, int parameters)
    {
        var candidate = CandidateSpec.Parse(description);

        Assert.Equal(parameters, candidate.Parameters.Count);
        Assert.Equal(description, candidate.ToString());
    }

    [Fact]
    public void ReadAuditDetails_RowsOfEveryAge_AreJson()
    {
        var indented = AuditLog.ReadDetails("{\n  \"blobName\": \"taxi/a.csv\",\n  \"rows\": 3\n}")!.Value;
        Assert.Equal(JsonValueKind.Object, indented.ValueKind);
        Assert.Equal("taxi/a.csv", indented.GetProperty("blobName").GetString());

        var text = AuditLog.ReadDetails("manual promotion")!.Value;
        Assert.Equal(JsonValueKind.String, text.ValueKind);
        Assert.Equal("manual promotion", text.GetString());

        Assert.Null(AuditLog.ReadDetails(""));
        Assert.Null(AuditLog.ReadDetails(null));
    }

    private sealed record LoadedVersionWithNull(string Model, string? Version);

    private static ModelManifest Manifest() => new()
    {
        Model = "taxi",
        Version = "v1",
        CreatedAt = DateTimeOffset.UnixEpoch,
        DatasetVersion = "ds-1",
        DatasetSha256 = new string('a', 64),
        Schema = new DatasetSchema { Columns = [new ColumnSchema("x", ColumnKind.Numeric), new ColumnSchema("y", ColumnKind.Numeric)], Label = "y", Task = TaskKind.Regression, Features = ["x"] },
        Candidate = new CandidateSpec("FastTree", new Dictionary<string, double> { ["numberOfLeaves"] = 20 }),
        PrimaryMetric = "rmse",
        ValidationMetrics = new Dictionary<string, double> { ["rmse"] = 1 },
        TestMetrics = new Dictionary<string, double> { ["rmse"] = 1.1 },
        Splits = new SplitRefs("a", "b", "c", 42, 7, 2, 1),
        ModelBlob = "taxi/v1/model.zip",
        Sha256 = new string('b', 64),
        SizeBytes = 1,
        Reproducibility = new Reproducibility(42, "5.0.1", "test", "net10", "linux"),
        OrchestrationId = "orch",
        RunId = "run",
    };
}
