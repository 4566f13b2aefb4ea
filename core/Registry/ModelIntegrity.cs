using System.Collections.Concurrent;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Serverless.Core.Hosting;
using Serverless.Core.Serving;
using Serverless.Core.Tracking;

namespace Serverless.Core.Registry;

/// <summary>An integrity failure as the audit records it, wherever it was found (serving, a download, a promotion).</summary>
public sealed record IntegrityFailureDetails(string Version, string Host, string Reason);

/// <summary>
/// A version's <c>model.zip</c> checked against the sha256 of its manifest before anything uses it. A mismatch, a
/// model.zip that is gone, or a manifest that cannot be read, is logged, audited as <see cref="AuditActions.IntegrityFailure"/> with who met it and where,
/// and thrown as <see cref="ModelUnavailableException"/> naming the version and what to do.
/// </summary>
public sealed class ModelIntegrity(ModelRegistry registry, AuditLog audit, Microsoft.Extensions.Options.IOptions<PredictionOptions> options, ILogger<ModelIntegrity> logger)
{
    // Versions whose stored bytes failed a check in this process, until a later check of them passes, and when the failure was last audited.
    private readonly ConcurrentDictionary<(string Model, string Version), DateTime> _failed = new();
    // Set at the first failure: until then the check on the request path reads one field (IsEmpty would take every lock).
    private volatile bool _anyFailed;

    /// <summary>
    /// Whether the stored bytes of a version failed their last check in this process (a load to serve, a download, a
    /// promotion or a rollback). A copy loaded before that is not served for the version by name after it.
    /// </summary>
    public bool HasFailed(string model, string version) => _anyFailed && _failed.ContainsKey((model, version));

    /// <summary>What a person can do about a version that failed its check: its bytes are lost, so it is made again.</summary>
    public static string Remedy(string model) =>
        $"Register the model again (POST /api/models/{model}/train, or upload its data to incoming/{model}/), or promote an earlier version.";

    /// <summary>The version's manifest and verified bytes.</summary>
    /// <param name="actor">Who met the failure, as the audit names it (<c>serving</c>, or the caller of a download or promotion).</param>
    /// <exception cref="NotFoundException">No such version.</exception>
    /// <exception cref="ModelUnavailableException">The bytes do not match the manifest, or are gone.</exception>
    public async Task<(ModelManifest Manifest, byte[] Bytes)> LoadAsync(string model, string version, string actor, CancellationToken ct)
    {
        try
        {
            var verified = await registry.LoadVerifiedAsync(model, version, ct).ConfigureAwait(false);
            _failed.TryRemove((model, version), out _);
            return verified;
        }
        catch (Exception e) when (e is InvalidDataException or ModelUnavailableException || e is RequestFailedException { ErrorCode: var code } && code == BlobErrorCode.BlobNotFound)
        {
            // A manifest that cannot be read (ModelUnavailableException from the registry) is as much a failure of the
            // stored bytes as a model.zip that does not match it: audited and remembered the same way.
            var reason = e is RequestFailedException ? $"The model.zip of {model} {version} is missing." : e.Message;
            var now = DateTime.UtcNow;
            // Every check is refused, but a failure is audited once an IntegrityRetryInterval, whichever path meets it
            // (downloads, promotions and rollbacks as serving): a caller retrying must not fill the audit log.
            var auditedLately = _failed.TryGetValue((model, version), out var last) && now - last < options.Value.IntegrityRetryInterval;
            if (!auditedLately) _failed[(model, version)] = now;
            _anyFailed = true;
            logger.LogError(e, "Integrity failure: {ModelName} {ModelVersion} met by {Actor}", model, version, actor);
            if (!auditedLately) await AuditAsync(model, version, actor, reason).ConfigureAwait(false);
            throw new ModelUnavailableException(model, version, $"Model '{model}' version {version} failed its integrity check: {reason}");
        }
    }

    private async Task AuditAsync(string model, string version, string actor, string reason)
    {
        try
        {
            await audit.RecordAsync(AuditActions.IntegrityFailure, model, actor, reason, new IntegrityFailureDetails(version, HostIdentity.Name, reason), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception auditFailure) when (auditFailure is RequestFailedException or OperationCanceledException)
        {
            logger.LogError(auditFailure, "Could not audit the integrity failure of {ModelName} {ModelVersion}", model, version);
        }
    }
}
