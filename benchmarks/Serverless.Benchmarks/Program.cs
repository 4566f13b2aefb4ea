using BenchmarkDotNet.Running;
using Serverless.Benchmarks;

// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- ingest <megabytes>      (throughput and peak memory)
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- --filter '*Ingestion*'  (BenchmarkDotNet)
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- engine [activities] [runs]   (durable engine overhead)
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- training [runs]              (training workflow overhead)
return args switch
{
    ["ingest", var megabytes] => Ingest.Run(int.Parse(megabytes)),
    ["engine", ..] => await EngineOverhead.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 100, args.Length > 2 ? int.Parse(args[2]) : 5),
    ["training", ..] => await TrainingOverhead.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 3),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    return 0;
}
