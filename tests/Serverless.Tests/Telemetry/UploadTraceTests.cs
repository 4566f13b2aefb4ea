using System.Diagnostics;
using Serverless.Core.Telemetry;
using Serverless.Orchestrations;
using Serverless.Orchestrations.Activities;
using Serverless.Tests.Infrastructure;
using static Serverless.Core.Telemetry.PipelineTelemetry;

namespace Serverless.Tests.Telemetry;

/// <summary>The spans of one data file, from the blob trigger to the first prediction of the version it trained.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class UploadTraceTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task UploadToServing_EveryStep_SharesTheDropZonesTrace()
    {
        var run = await TracedRun.GetAsync(azurite);

        var names = run.SpansOf(run.DataTrace).Select(s => s.OperationName).ToHashSet();

        string[] expected =
        [
            Spans.DropZone, Spans.Ingest,
            // The Durable Task SDK's spans, carried through the engine:
            $"create_orchestration:{nameof(TrainingOrchestrator)}", $"orchestration:{nameof(TrainingOrchestrator)}", $"activity:{nameof(LoadTrainingPlan)}",
            // each activity's own span:
            nameof(LoadTrainingPlan), nameof(ValidateDataset), nameof(SplitDataset), nameof(TrainCandidate), nameof(EvaluateBaseline),
            nameof(EvaluateModel), nameof(RegisterModel), nameof(PromoteModel), Spans.FirstPrediction,
        ];
        var missing = expected.Where(n => !names.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"Not in the upload's trace: {string.Join(", ", missing)}; it holds {string.Join(", ", names.Order())}");
    }

    [Fact]
    public async Task UploadToServing_PipelineSpans_CarryModelAndDatasetVersion()
    {
        var run = await TracedRun.GetAsync(azurite);
        var trace = run.SpansOf(run.DataTrace);
        var datasetVersion = (string?)trace.Single(s => s.OperationName == Spans.Ingest).GetTagItem(Tags.DatasetVersion);

        var pipeline = trace.Where(s => s.Source.Name == PipelineTelemetry.Name && s.OperationName != nameof(PromoteModel)).ToList();

        Assert.False(string.IsNullOrEmpty(datasetVersion));
        Assert.All(pipeline, s => Assert.Equal((TracedRun.Model, datasetVersion), ((string?)s.GetTagItem(Tags.Model), (string?)s.GetTagItem(Tags.DatasetVersion))));
        Assert.Contains(pipeline, s => s.OperationName == nameof(TrainCandidate));
    }

    [Fact]
    public async Task UploadToServing_RegistrationPromotionAndFirstPrediction_CarryTheNewVersion()
    {
        var run = await TracedRun.GetAsync(azurite);
        var trace = run.SpansOf(run.DataTrace);

        var versioned = trace.Where(s => s.OperationName is nameof(RegisterModel) or nameof(PromoteModel) or Spans.FirstPrediction).ToList();

        Assert.Equal(3, versioned.Count);
        Assert.All(versioned, s => Assert.Equal((TracedRun.Model, run.ProductionVersion), ((string?)s.GetTagItem(Tags.Model), (string?)s.GetTagItem(Tags.ModelVersion))));
    }

    [Fact]
    public async Task FirstPrediction_OfANewVersion_IsOneSpanLinkedToItsRequest()
    {
        var run = await TracedRun.GetAsync(azurite);

        var first = run.Spans.Where(s => s.OperationName == Spans.FirstPrediction && (string?)s.GetTagItem(Tags.Model) == TracedRun.Model).ToList();
        var requests = run.Spans.Where(s => s.Source.Name == "Microsoft.AspNetCore" && (string?)s.GetTagItem(Tags.Model) == TracedRun.Model
            && (string?)s.GetTagItem(Tags.ModelVersion) == run.ProductionVersion).ToList();

        var span = Assert.Single(first);
        Assert.Equal(2, requests.Count);
        var link = Assert.Single(span.Links);
        Assert.Contains(requests, r => r.Context.SpanId == link.Context.SpanId && r.TraceId != run.DataTrace);
    }
}
