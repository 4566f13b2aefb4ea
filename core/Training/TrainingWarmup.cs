using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// Runs the training code paths once, on a few hundred synthetic rows, when a host starts: every default trainer through
/// the same loader, featurization, evaluation and save/load as a real candidate (the blend only refits the same trainers,
/// and is left out). The first real run then finds ML.NET
/// compiled instead of paying for it (a first upload on a fresh host trained its linear candidate three times slower
/// than the next). Runs in the background at start-up; <c>Pipeline:Training:WarmUp=false</c> turns it off.
/// </summary>
public sealed class TrainingWarmup(IOptions<TrainingOptions> options, ILogger<TrainingWarmup> logger) : BackgroundService
{
    private const int Rows = 400;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.WarmUp ? Task.Run(() => WarmUp(stoppingToken), stoppingToken) : Task.CompletedTask;

    private void WarmUp(CancellationToken stoppingToken)
    {
        var clock = Stopwatch.StartNew();
        var file = Path.Combine(options.Value.ScratchDirectory ?? Path.GetTempPath(), $"warmup-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(file, SyntheticCsv(options.Value.Seed));
            var schema = new DatasetSchema
            {
                Columns = [new("distance", ColumnKind.Numeric), new("vendor", ColumnKind.Categorical), new("night", ColumnKind.Boolean), new("fare", ColumnKind.Numeric)],
                Label = "fare",
                Task = TaskKind.Regression,
                Features = ["distance", "vendor", "night"],
            };
            foreach (var candidate in TrainerCatalog.Candidates(new ModelSpec(), DefaultCandidates.Singles(Rows, hasText: false)))
            {
                stoppingToken.ThrowIfCancellationRequested();
                var ml = FeaturePipeline.Context(options.Value.Seed);
                var loader = FeaturePipeline.Loader(ml, schema);
                var data = loader.Load(file);
                var label = FeaturePipeline.FitLabel(ml, schema, data);
                var prepared = label.Transform(data);
                var model = TrainerCatalog.Estimator(ml, schema, null, candidate, options.Value.Seed, Rows).Fit(prepared);
                ModelEvaluation.Evaluate(ml, schema, model.Transform(prepared));
                using var stream = new MemoryStream();
                ml.Model.Save(model, data.Schema, stream);
                stream.Position = 0;
                ml.Model.Load(stream, out _);
            }
            logger.LogInformation("Training code paths warmed up in {ElapsedMs:F0} ms", clock.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // A warm-up that fails costs only the first run's speed.
            logger.LogWarning(e, "Warming up the training code paths failed");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string SyntheticCsv(int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder("distance,vendor,night,fare\n");
        for (var i = 0; i < Rows; i++)
        {
            var distance = random.NextDouble() * 10;
            var vendor = i % 3 == 0 ? "A" : i % 3 == 1 ? "B" : "C";
            var night = random.Next(2) == 1;
            var fare = 2.5 + 2.1 * distance + (night ? 1 : 0) + random.NextDouble();
            text.Append(CultureInfo.InvariantCulture, $"{distance:F3},{vendor},{(night ? "true" : "false")},{fare:F2}\n");
        }
        return text.ToString();
    }
}
