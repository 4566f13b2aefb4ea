using BenchmarkDotNet.Running;
using Serverless.Benchmarks;

// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- ingest <megabytes>      (throughput and peak memory)
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- --filter '*Ingestion*'  (BenchmarkDotNet)
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- --filter '*Scoring*'  (BenchmarkDotNet)
//     One taxi row scored in-process by the serving path's row scorer (with the model's compiled trees, and with ML.NET's
//     own mapper) against ML.NET's typed PredictionEngine, and a 1,000-row batch against ML.NET's LoadFromEnumerable +
//     Transform, per model size of the default candidates.
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- --filter '*Featurization*'  (BenchmarkDotNet)
//     A wide table's featurization (30 and 300 numeric columns with missing cells, two flags, two categories; 1,000 rows)
//     fitted and read once: FeaturePipeline.Featurize against the same transforms written by hand in ML.NET, and against
//     a ReplaceMissingValues per column.
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- engine [activities=100] [runs=5]
//     The Durable Task engine's cost per activity: N no-op activities in sequence and N fanned out (Task.WhenAll), on the
//     local host's engine (DurableTask.AzureStorage on a fresh Azurite behind the gRPC sidecar, fresh task hub) and on the
//     in-memory DurableTaskTestHost in the same process, both at the local host's concurrency; the fan-out again on both
//     backends with room for every activity (the sidecar, once at its limit, looks for work only every 500 ms); medians
//     after a warm-up run, ms total and per activity, and the ratios.
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- training [runs=3]
//     The local host in-process on Azurite; per run the taxi data (regression on fare_amount) dropped into incoming/ under a
//     new model: upload-to-servable time (production alias set and predict answering 200; run 1 cold, later runs warm),
//     and the training run's wall time against its activities' critical path, read from the task hub's History table.
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- serving [trainingRows=20000] [seconds=10] [trainer|default] [rounds=3]
//     The taxi model served by the local host in-process: single-row predict against a constant-JSON route of the same host
//     under wrk (-t2 -c16, needs wrk on the PATH) and against a pooled typed ML.NET PredictionEngine behind a minimal route of
//     the same host, and a 1,000-row batch through HTTP against an in-process ML.NET transform. With a trainer name
//     (e.g. LightGbm) the spec limits the run to that trainer's default settings; without, the default candidates compete.
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- quality [data set ...] [--seeds N]
//     Every data set of ../shared/datasets dropped into the local host in-process with the default candidates; the served
//     version's test metrics beside scikit-learn's HistGradientBoosting with default settings on the same split (needs
//     Debian's python3-sklearn: /usr/bin/python3). With --seeds N each set is run N times, the spec's seed (and with it the
//     split) another each time, and a table gives each set's wins over the splits. Run by hand, not in CI.
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- hot-swap [seconds=30]   (or benchmarks/hot-swap.sh)
//     Promote and roll back the taxi model while wrk drives predict: non-2xx answers (aim 0), answers per version, and
//     how soon after each move a probe client is answered by the version it set (moves through the API, and through the
//     registry as another host would make them: aim within the refresh interval).
// Those need Azurite ('npm ci' at the repository root once), except drift:
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- drift [currentRows=1000000] [referenceRows=100000] [features=10] [runs=5]
//     A drift check's statistics on one thread (run it under 'taskset -c 0' for one core), against scipy's ks_2samp on the
//     same arrays (benchmarks/drift/ks_scipy.py; needs /usr/bin/python3 with python3-scipy, else only the C# time).
return args switch
{
    ["ingest", var megabytes] => Ingest.Run(int.Parse(megabytes)),
    ["engine", .. var rest] => await EngineOverhead.RunAsync(Arg(rest, 0, 100), Arg(rest, 1, 5)),
    ["training", .. var rest] => await TrainingOverhead.RunAsync(Arg(rest, 0, 3)),
    ["quality", .. var rest] => await QualityComparison.RunAsync(rest),
    ["serving", .. var rest] => await ServingThroughput.RunAsync(Arg(rest, 0, 20_000), Arg(rest, 1, 10), rest.Length > 2 ? rest[2] : null,
        Arg(rest, 3, ServingThroughput.DefaultRounds)),
    ["hot-swap", .. var rest] => await HotSwapUnderLoad.RunAsync(Arg(rest, 0, 30)),
    ["drift", .. var rest] => DriftSpeed.Run(Arg(rest, 0, 1_000_000), Arg(rest, 1, 100_000), Arg(rest, 2, 10), Arg(rest, 3, 5)),
    _ => RunBenchmarkDotNet(args),
};

static int Arg(string[] args, int index, int fallback) => args.Length > index ? int.Parse(args[index]) : fallback;

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(IngestionBenchmarks).Assembly).Run(args);
    return 0;
}
