using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Core.Datasets;
using Serverless.Core.Hosting;
using Serverless.Core.Specs;
using Serverless.Core.Storage;

// mlops upload <model> <file> [--label L] [--task regression|binary|multiclass] [--spec spec.json]
//                             [--connection CS] [--wait] [--host http://127.0.0.1:7071] [--timeout-seconds N]
// Drops a data file (and optionally a spec) into incoming/<model>/ of the local storage. With --wait it then waits
// until the model's production version changes and a prediction is served, and prints how long that took; an upload
// that is quarantined, or that duplicates a dataset version, ends the wait with its reason.

if (args.Length < 3 || args[0] != "upload")
{
    Console.Error.WriteLine("usage: mlops upload <model> <file> [--label L] [--task T] [--spec spec.json] [--connection CS] [--wait] [--host URL] [--timeout-seconds N]");
    return 2;
}
var model = args[1];
var file = args[2];
var options = ParseOptions(args.Skip(3).ToArray());
if (!ModelNames.IsValid(model)) return Fail($"'{model}' is not a valid model name: {ModelNames.Rule}.");
if (!File.Exists(file)) return Fail($"No file at '{file}'.");

var storageOptions = new PipelineStorageOptions
{
    ConnectionString = options.GetValueOrDefault("connection") ?? Environment.GetEnvironmentVariable("Pipeline__Storage__ConnectionString") ?? "UseDevelopmentStorage=true",
};
var storage = new PipelineStorage(Options.Create(storageOptions));
await storage.EnsureCreatedAsync();

var host = (options.GetValueOrDefault("host") ?? "http://127.0.0.1:7071").TrimEnd('/');
using var http = new HttpClient { BaseAddress = new Uri(host), Timeout = TimeSpan.FromSeconds(60) };
var wait = options.ContainsKey("wait");
string? before = wait ? await ProductionVersionAsync() : null;

ModelSpec? spec = null;
if (options.GetValueOrDefault("spec") is { } specFile)
{
    spec = JsonSerializer.Deserialize<ModelSpec>(await File.ReadAllTextAsync(specFile), JsonBlobs.Options);
}
if (options.GetValueOrDefault("label") is { } label) spec = (spec ?? new ModelSpec()) with { Label = label };
if (options.GetValueOrDefault("task") is { } task) spec = (spec ?? new ModelSpec()) with { Task = Enum.Parse<TaskKind>(task, ignoreCase: true) };

var clock = Stopwatch.StartNew();
if (spec is not null)
{
    // Dropped, not stored: the drop zone checks the spec and brings it into force before the data that follows.
    await JsonBlobs.WriteAsync(storage.Incoming.GetBlobClient(ModelSpecStore.BlobName(model)), spec, CancellationToken.None);
    Console.WriteLine($"spec    incoming/{ModelSpecStore.BlobName(model)}");
}
var blobName = $"{model}/{Path.GetFileName(file)}";
var uploadedAt = DateTimeOffset.UtcNow;
await using (var stream = File.OpenRead(file))
{
    await storage.Incoming.GetBlobClient(blobName).UploadAsync(stream, overwrite: true);
}
Console.WriteLine($"data    incoming/{blobName} ({new FileInfo(file).Length:N0} bytes)");
if (!wait) return 0;

var timeout = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("timeout-seconds") ?? "600"));
Console.WriteLine($"waiting for a new production version of '{model}' on {host} (up to {timeout.TotalSeconds:N0} s)");
string? after = null;
var quarantine = new QuarantineStore(storage);
var datasets = new DatasetStore(storage);
var checkedUpload = TimeSpan.Zero;
while (clock.Elapsed < timeout)
{
    after = await ProductionVersionAsync();
    if (after is not null && after != before) break;
    if (clock.Elapsed - checkedUpload > TimeSpan.FromSeconds(2))
    {
        checkedUpload = clock.Elapsed;
        var refused = (await quarantine.ListAsync(model, CancellationToken.None)).FirstOrDefault(q => q.Report.Blob == blobName && q.Report.QuarantinedAt >= uploadedAt);
        if (refused is not null) return Fail($"quarantined: {refused.Report.Summary}");
        var duplicate = (await datasets.ListDuplicatesAsync(model, CancellationToken.None)).FirstOrDefault(d => d.Blob == blobName && d.RecordedAt >= uploadedAt);
        if (duplicate is not null) return Fail(duplicate.Message);
    }
    await Task.Delay(250);
}
if (after is null || after == before) return Fail($"no new production version after {clock.Elapsed.TotalSeconds:N1} s; see GET {host}/api/models/{model} and the host's log.");
var registered = clock.Elapsed;

var row = await FirstRowAsync(file, spec?.Label);
var response = await http.PostAsJsonAsync($"/api/models/{model}/predict", row);
var answer = await response.Content.ReadAsStringAsync();
var served = clock.Elapsed;
Console.WriteLine($"registered {after} after {registered.TotalSeconds:N1} s; first prediction served after {served.TotalSeconds:N1} s");
Console.WriteLine($"predict {(int)response.StatusCode}: {answer}");
return response.IsSuccessStatusCode ? 0 : 1;

async Task<string?> ProductionVersionAsync()
{
    try
    {
        var node = await http.GetFromJsonAsync<JsonObject>($"/api/models/{model}");
        return node?["aliases"]?["production"]?.GetValue<string>();
    }
    catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
    {
        return null;
    }
}

static async Task<Dictionary<string, object?>> FirstRowAsync(string file, string? label)
{
    using var reader = new StreamReader(file);
    var header = (await reader.ReadLineAsync() ?? "").Split(',');
    var values = (await reader.ReadLineAsync() ?? "").Split(',');
    var row = new Dictionary<string, object?>();
    for (var i = 0; i < Math.Min(header.Length, values.Length); i++)
    {
        if (header[i] == label) continue;
        row[header[i]] = double.TryParse(values[i], System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : values[i];
    }
    return row;
}

static Dictionary<string, string?> ParseOptions(string[] rest)
{
    var parsed = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
    for (var i = 0; i < rest.Length; i++)
    {
        if (!rest[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{rest[i]}'");
        var name = rest[i][2..];
        var isFlag = name == "wait";
        parsed[name] = isFlag ? "true" : (i + 1 < rest.Length ? rest[++i] : throw new ArgumentException($"--{name} needs a value"));
    }
    return parsed;
}

static int Fail(string message)
{
    Console.Error.WriteLine("mlops: " + message);
    return 1;
}
