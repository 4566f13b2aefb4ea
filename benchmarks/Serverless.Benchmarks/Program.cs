using BenchmarkDotNet.Running;
using Serverless.Benchmarks;

// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- ingest <megabytes>      (throughput and peak memory)
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- --filter '*Ingestion*'  (BenchmarkDotNet)
return args switch
{
    ["ingest", var megabytes] => Ingest.Run(int.Parse(megabytes)),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    return 0;
}
