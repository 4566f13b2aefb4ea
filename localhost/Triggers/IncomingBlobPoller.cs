using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Options;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Microsoft.DurableTask.Client;
using Serverless.Orchestrations;

namespace Serverless.LocalHost.Triggers;

/// <summary>
/// The local host's blob trigger on <c>incoming/{model}/{name}</c>: polls the container, claims each new blob content
/// version through <see cref="BlobReceipts"/>, and hands it to the shared <see cref="DropZone"/>. Specs are handled
/// before data files of the same model; models are processed in parallel, each model's files in upload order.
/// </summary>
public sealed class IncomingBlobPoller(
    PipelineStorage storage,
    BlobReceipts receipts,
    DropZone dropZone,
    DurableTaskClient workflows,
    IOptions<BlobTriggerOptions> options,
    ILogger<IncomingBlobPoller> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, bool> _finished = new();
    private readonly BlobTriggerOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled) return;
        await storage.EnsureCreatedAsync();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Polling {Container} failed; retrying in {PollInterval}", storage.Incoming.Name, _options.PollInterval);
            }
            await Task.Delay(_options.PollInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>One pass over the container; returns how many blob versions this pass handled.</summary>
    public async Task<int> PollOnceAsync(CancellationToken ct)
    {
        var fresh = new List<BlobItem>();
        await foreach (var blob in storage.Incoming.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix: null, ct))
        {
            if (!_finished.ContainsKey(Key(blob))) fresh.Add(blob);
        }
        if (fresh.Count == 0) return 0;

        var groups = fresh
            .GroupBy(b => b.Name.Split('/')[0], StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(b => b.Name.EndsWith("/" + ModelSpecStore.FileName, StringComparison.Ordinal))
                          .ThenBy(b => b.Properties.CreatedOn ?? b.Properties.LastModified)
                          .ThenBy(b => b.Name, StringComparer.Ordinal)
                          .ToList())
            .ToList();
        var handled = 0;
        await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.MaxParallel), CancellationToken = ct }, async (group, token) =>
        {
            foreach (var blob in group)
            {
                if (await HandleAsync(blob, token)) Interlocked.Increment(ref handled);
            }
        });
        return handled;
    }

    private async Task<bool> HandleAsync(BlobItem blob, CancellationToken ct)
    {
        var etag = blob.Properties.ETag?.ToString() ?? "";
        var existing = await receipts.GetAsync(blob.Name, etag, ct);
        if (existing is { State: BlobReceipts.State.Done or BlobReceipts.State.Poison })
        {
            _finished[Key(blob)] = true;
            return false;
        }
        var claim = await receipts.TryClaimAsync(blob.Name, etag, _options.HostId, _options.ClaimTimeout, ct);
        if (claim is null) return false;

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewing = RenewWhileWorkingAsync(claim, renewal.Token);
        try
        {
            var result = await dropZone.HandleAsync(blob.Name, workflows, ct);
            renewal.Cancel();
            claim = await renewing;
            await receipts.CompleteAsync(claim, BlobReceipts.State.Done, JsonSerializer.Serialize(result, JsonBlobs.Options), ct);
            _finished[Key(blob)] = true;
            return true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            renewal.Cancel();
            claim = await renewing;
            var poison = claim.Attempts >= _options.MaxAttempts;
            logger.LogError(e, "Processing {BlobName} failed (attempt {Attempt} of {MaxAttempts}){Poison}",
                blob.Name, claim.Attempts, _options.MaxAttempts, poison ? "; giving it up as poison" : "");
            await receipts.CompleteAsync(claim, poison ? BlobReceipts.State.Poison : BlobReceipts.State.Failed, e.ToString(), ct);
            if (poison) _finished[Key(blob)] = true;
            return false;
        }
    }

    /// <summary>Keeps the claim alive while a long file is processed; returns the claim with its latest row ETag.</summary>
    private async Task<BlobReceipts.Receipt> RenewWhileWorkingAsync(BlobReceipts.Receipt claim, CancellationToken ct)
    {
        var period = TimeSpan.FromTicks(Math.Max(_options.ClaimTimeout.Ticks / 3, TimeSpan.FromMilliseconds(100).Ticks));
        try
        {
            while (true)
            {
                await Task.Delay(period, ct);
                var renewed = await receipts.RenewAsync(claim, CancellationToken.None);
                if (renewed is null)
                {
                    logger.LogWarning("Lost the claim on {BlobName} to another host", claim.BlobName);
                    return claim;
                }
                claim = renewed;
            }
        }
        catch (OperationCanceledException)
        {
            return claim;
        }
    }

    private static string Key(BlobItem blob) => blob.Name + "\n" + blob.Properties.ETag;
}
