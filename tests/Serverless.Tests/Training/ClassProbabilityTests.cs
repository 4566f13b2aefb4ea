using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>
/// Every trainer of the catalog gives classifiers whose probabilities mean something: a probability column (the one the
/// predict answer's <c>probability</c> and <c>probabilities</c> are read from; the log-loss is measured only when it is
/// there) with a log-loss below that of the uniform guess, ln 2 for two classes and ln 3 for three; and the model's
/// predictor (whose scoring cost and feature importance are measured) is still found in its chain.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ClassProbabilityTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("FastForest", TaskKind.Binary)]
    [InlineData("FastForest", TaskKind.Multiclass)]
    [InlineData("FastTree", TaskKind.Binary)]
    [InlineData("FastTree", TaskKind.Multiclass)]
    [InlineData("LightGbm", TaskKind.Binary)]
    [InlineData("LightGbm", TaskKind.Multiclass)]
    [InlineData("Sdca", TaskKind.Binary)]
    [InlineData("Sdca", TaskKind.Multiclass)]
    public async Task Classifier_OfEveryTrainer_GivesProbabilitiesBetterThanTheUniformGuess(string trainerName, TaskKind task)
    {
        var (label, classes) = task == TaskKind.Binary ? ("churn", 2) : ("tier", 3);
        var candidate = new CandidateSpec(trainerName, TrainerCatalog.IsLinear(trainerName) ? [] : new Dictionary<string, double> { [TrainerCatalog.Iterations] = 40 });

        var (_, _, _, _, result) = await TrainedCandidate.FitAsync(azurite, "calibrated", candidate, label, task, ["note", "email"]);

        Assert.True(result.Succeeded, result.Error);
        Assert.True(result.ValidationMetrics.TryGetValue("logLoss", out var logLoss), $"{trainerName} gave no probabilities: {string.Join(", ", result.ValidationMetrics.Keys)}");
        Assert.InRange(logLoss, 0, Math.Log(classes));
        // The cost is read from the predictor the chain holds, not from a calibration after it: 40 trees cost more than 40 splits.
        Assert.True(result.Selection?.ScoringCost is var cost && (TrainerCatalog.IsLinear(trainerName) ? cost >= 1 : cost > 40), $"scoring cost {cost}");
    }
}
