using Serverless.Core.Tracking;

namespace Serverless.Core.Registry;

/// <summary>
/// The moves of a model's versions that people make (promote, roll back, archive), each applied to the registry and
/// audited with its actor and reason; a promotion past a failed gate, a pending approval or an archive is audited as
/// <see cref="AuditActions.ForcedPromote"/>.
/// </summary>
public sealed class ModelLifecycle(ModelRegistry registry, ModelIntegrity integrity, AuditLog audit)
{
    /// <summary>
    /// Moves production to <paramref name="version"/>, after checking its bytes against its manifest: a version that fails
    /// that check is never served, so it is not promoted, even with <paramref name="force"/> (409, audited as an integrity failure).
    /// </summary>
    public async Task<AliasMove> PromoteAsync(string model, string version, string actor, string reason, bool force, CancellationToken ct)
    {
        var doc = await registry.GetAsync(model, ct).ConfigureAwait(false) ?? throw new NotFoundException($"Model '{model}' has no registered version.");
        if (doc.Versions.Exists(v => v.Version == version) && doc.Aliases.GetValueOrDefault(ModelRegistry.Production) != version)
        {
            try
            {
                await integrity.LoadAsync(model, version, actor, ct).ConfigureAwait(false);
            }
            catch (Serving.ModelUnavailableException e)
            {
                throw new ConflictException($"{e.Message} A version that fails this check is never served, so it is not promoted, with \"force\" or without. {ModelIntegrity.Remedy(model)}");
            }
        }
        var move = await registry.PromoteAsync(model, version, actor, reason, force, ct).ConfigureAwait(false);
        if (move.From != move.To)
        {
            await audit.RecordAsync(move.ForcedBecause is null ? AuditActions.Promote : AuditActions.ForcedPromote, model, actor, reason,
                new { move.From, move.To, Forced = move.ForcedBecause is not null, move.ForcedBecause }, ct).ConfigureAwait(false);
        }
        return move;
    }

    public async Task<AliasMove> RollbackAsync(string model, string actor, string reason, CancellationToken ct)
    {
        _ = await registry.GetAsync(model, ct).ConfigureAwait(false) ?? throw new NotFoundException($"Model '{model}' has no registered version.");
        var move = await registry.RollbackAsync(model, actor, reason, ct).ConfigureAwait(false);
        await audit.RecordAsync(AuditActions.Rollback, model, actor, reason, new { move.From, move.To, move.Skipped }, ct).ConfigureAwait(false);
        return move;
    }

    public async Task<RegistryDocument> ArchiveAsync(string model, string version, string actor, string reason, CancellationToken ct)
    {
        var before = await registry.GetAsync(model, ct).ConfigureAwait(false) ?? throw new NotFoundException($"Model '{model}' has no registered version.");
        var doc = await registry.ArchiveAsync(model, version, actor, reason, ct).ConfigureAwait(false);
        if (before.Versions.Find(v => v.Version == version)?.Status != VersionStatus.Archived)
        {
            var cleared = before.Aliases.Where(a => a.Value == version).Select(a => a.Key).ToList();
            await audit.RecordAsync(AuditActions.Archive, model, actor, reason, new { Version = version, AliasesCleared = cleared }, ct).ConfigureAwait(false);
        }
        return doc;
    }
}
