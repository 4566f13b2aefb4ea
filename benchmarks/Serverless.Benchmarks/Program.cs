using BenchmarkDotNet.Running;
using Serverless.Benchmarks;

// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- ingest <megabytes>   (throughput and peak memory)
// dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- --filter '*Ingestion*'  (BenchmarkDotNet)
if (args.Length == 2 && args[0] == "ingest") return Ingest.Run(int.Parse(args[1]));
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
