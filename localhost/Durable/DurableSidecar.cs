using System.Net;
using System.Net.Sockets;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.Options;
using Serverless.Core.Storage;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// The Durable Task engine of the local host: DurableTask.AzureStorage's <see cref="AzureStorageOrchestrationService"/>
/// (wrapped in <see cref="SidecarGapsService"/>) served over loopback gRPC by the public <c>TaskHubGrpcServer</c> of
/// Microsoft.DurableTask.InProcessTestHost, the same protocol Durable Functions' host speaks to an isolated worker. The
/// host's Durable Task worker and client connect to <see cref="Channel"/>. Registered before the worker, so it starts
/// first and stops last; its stop is bounded by <see cref="DurableEngineOptions.StopTimeout"/>.
/// </summary>
public sealed class DurableSidecar : IHostedService, IAsyncDisposable
{
    private readonly DurableEngineOptions _options;
    private readonly PipelineStorage _storage;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private IHost? _server;

    public DurableSidecar(IOptions<DurableEngineOptions> options, PipelineStorage storage, ILoggerFactory loggerFactory)
        : this(options, storage, loggerFactory, SidecarGaps.All)
    {
    }

    /// <summary>For tests that show a gap of the preview sidecar: <paramref name="closed"/> names the gaps closed.</summary>
    internal DurableSidecar(IOptions<DurableEngineOptions> options, PipelineStorage storage, ILoggerFactory loggerFactory, SidecarGaps closed)
    {
        _options = options.Value;
        _options.Validate();
        _storage = storage;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<DurableSidecar>();
        Port = _options.SidecarPort > 0 ? _options.SidecarPort : FreePort();
        Address = $"http://127.0.0.1:{Port}";
        Channel = GrpcChannel.ForAddress(Address);
        Service = new SidecarGapsService(new AzureStorageOrchestrationService(Settings()), _options.ActivityLeaseRenewal, closed);
        _closed = closed;
    }

    private readonly SidecarGaps _closed;

    public int Port { get; }
    public string Address { get; }

    /// <summary>The loopback channel the worker and the client share.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>The sidecar's gRPC service, once started.</summary>
    internal SidecarGrpcServer? Server => _server?.Services.GetService<SidecarGrpcServer>();

    /// <summary>The orchestration service the sidecar runs on.</summary>
    public SidecarGapsService Service { get; }

    public DurableEngineOptions Options => _options;

    /// <summary>The engine's settings, from <see cref="DurableEngineOptions"/> and the pipeline's storage account.</summary>
    public AzureStorageOrchestrationServiceSettings Settings() => new()
    {
        TaskHubName = _options.TaskHubName,
        PartitionCount = _options.PartitionCount,
        WorkItemQueueVisibilityTimeout = _options.WorkItemQueueVisibilityTimeout,
        ControlQueueVisibilityTimeout = _options.ControlQueueVisibilityTimeout,
        LeaseInterval = _options.PartitionLeaseInterval,
        LeaseRenewInterval = _options.PartitionLeaseRenewInterval,
        LeaseAcquireInterval = _options.PartitionLeaseRenewInterval,
        MaxQueuePollingInterval = _options.MaxQueuePollingInterval,
        WorkerId = _options.ResolvedWorkerId,
        MaxConcurrentTaskActivityWorkItems = _options.ResolvedMaxConcurrentActivities,
        MaxConcurrentTaskOrchestrationWorkItems = _options.MaxConcurrentOrchestrations,
        // Hosts of one task hub are one app: none waits for another's app lease.
        UseAppLease = false,
        LoggerFactory = _loggerFactory,
        StorageAccountClientProvider = ClientProvider(),
    };

    private StorageAccountClientProvider ClientProvider()
    {
        var storage = _storage.Options;
        if (_storage.Credential is { } credential)
        {
            var account = storage.AccountName!.Trim();
            return new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(account, credential, _storage.BlobOptions()),
                StorageServiceClientProvider.ForQueue(account, credential, _storage.QueueOptions()),
                StorageServiceClientProvider.ForTable(account, credential));
        }
        return new StorageAccountClientProvider(
            StorageServiceClientProvider.ForBlob(storage.ConnectionString, _storage.BlobOptions()),
            StorageServiceClientProvider.ForQueue(storage.ConnectionString, _storage.QueueOptions()),
            StorageServiceClientProvider.ForTable(storage.ConnectionString));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Service.CreateIfNotExistsAsync().ConfigureAwait(false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // The sidecar is part of the host: its own start-up lines and request logs would repeat the host's, and it
        // stops when the host stops it, not on its own at Ctrl-C.
        builder.Services.AddSingleton<ILoggerFactory>(new SidecarLoggerFactory(_loggerFactory));
        builder.Services.AddSingleton<IHostLifetime, HostOwnedLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = _options.StopTimeout);
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IOrchestrationService>(Service);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(Service);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(_options));
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SidecarGrpcServer>(sp, _closed));
        var app = builder.Build();
        app.MapGrpcService<SidecarGrpcServer>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _server = app;
        _logger.LogInformation("Durable Task engine on task hub {TaskHub} ({Partitions} partitions) as {WorkerId}, sidecar {Address}",
            _options.TaskHubName, _options.PartitionCount, _options.ResolvedWorkerId, Address);
    }

    /// <summary>
    /// Stops the sidecar and hands the task hub's partitions back, each step bounded: work still running here is
    /// abandoned to its lease, and another host (or this one, restarted) takes it up once the lease lapses.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(_options.StopTimeout);
        if (_server is { } server)
        {
            try
            {
                await server.StopAsync(bound.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _logger.LogWarning("The Durable Task sidecar did not stop within {StopTimeout}; its work is left to its leases", _options.StopTimeout);
            }
        }
        try
        {
            await Service.StopAsync(isForced: true).WaitAsync(_options.StopTimeout, CancellationToken.None).ConfigureAwait(false);
            if (Service.StopFailure is { } failure) _logger.LogWarning(failure, "The task hub's engine failed while stopping; its leases lapse after {LeaseInterval}", _options.PartitionLeaseInterval);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("The task hub's partitions were not released within {StopTimeout}; they lapse after {LeaseInterval}",
                _options.StopTimeout, _options.PartitionLeaseInterval);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is IAsyncDisposable server) await server.DisposeAsync().ConfigureAwait(false);
        Channel.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The host's logger factory without the sidecar web server's own lifetime and request categories.</summary>
    private sealed class SidecarLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName.StartsWith("Microsoft.Hosting.Lifetime", StringComparison.Ordinal) || categoryName.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)
                ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance
                : inner.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The host owns the inner factory.
        }
    }

    /// <summary>A lifetime that leaves starting and stopping to the host that owns the sidecar (no console signal handling).</summary>
    private sealed class HostOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
