using Serverless.Core.Tracking;

namespace Serverless.Core.Registry;

/// <summary>
/// The moves of a model's versions that people make (promote, roll back, archive), each applied to the registry and
/// audited with its actor and reason; a promotion past a failed gate, a pending approval or an archive is audited as
/// <see cref="AuditActions.ForcedPromote"/>.
/// </summary>
public sealed class ModelLifecycle(ModelRegistry registry, ModelPresence presence, ModelIntegrity integrity, AuditLog audit)
{
    /// <summary>
    /// Moves production to <paramref name="version"/>, after checking its bytes against its manifest: a version that fails
    /// that check is never served, so it is not promoted, even with <paramref name="force"/> (409, audited as an integrity failure).
    /// </summary>
    public async Task<AliasMove> PromoteAsync(string model, string version, string actor, string reason, bool force, CancellationToken ct)
    {
        var doc = await registry.GetAsync(model, ct).ConfigureAwait(false) ?? throw await presence.WithoutVersionAsync(model, ct).ConfigureAwait(false);
        if (doc.Versions.Exists(v => v.Version == version) && doc.Aliases.GetValueOrDefault(ModelRegistry.Production) != version)
        {
            await VerifyAsync(model, version, actor, "promoted, with \"force\" or without", ct).ConfigureAwait(false);
        }
        var move = await registry.PromoteAsync(model, version, actor, reason, force, ct).ConfigureAwait(false);
        if (move.From != move.To)
        {
            await audit.RecordAsync(move.ForcedBecause is null ? AuditActions.Promote : AuditActions.ForcedPromote, model, actor, reason,
                new { move.From, move.To, Forced = move.ForcedBecause is not null, move.ForcedBecause }, ct).ConfigureAwait(false);
        }
        return move;
    }

    /// <summary>
    /// Moves production back to its <see cref="ModelRegistry.RollbackTarget"/>, after checking that version's bytes
    /// against its manifest: a rollback onto a version that would not load is refused (409, audited as an integrity
    /// failure), and production stays where it is.
    /// </summary>
    public async Task<AliasMove> RollbackAsync(string model, string actor, string reason, CancellationToken ct)
    {
        var doc = await registry.GetAsync(model, ct).ConfigureAwait(false);
        if (doc is null)
        {
            // A model that exists without a version is in a state a rollback cannot act on (409), as one with no earlier production.
            await presence.EnsureExistsAsync(model, ct).ConfigureAwait(false);
            throw new ConflictException($"Model '{model}' has no registered version yet, so there is no production version to roll back from; " +
                                        $"the first training run registers one (GET {Api.ApiRoutes.OrchestrationsOf(model)}).");
        }
        var target = ModelRegistry.RollbackTarget(doc).To;
        for (var attempt = 0; ; attempt++)
        {
            await VerifyAsync(model, target, actor, "rolled back to", ct).ConfigureAwait(false);
            try
            {
                var move = await registry.RollbackAsync(model, actor, reason, ct, expected: target).ConfigureAwait(false);
                await audit.RecordAsync(AuditActions.Rollback, model, actor, reason, new { move.From, move.To, move.Skipped }, ct).ConfigureAwait(false);
                return move;
            }
            catch (RollbackTargetMovedException moved) when (attempt < MaxTargetMoves)
            {
                target = moved.Target;
            }
            catch (RollbackTargetMovedException)
            {
                throw new ConflictException($"Production of '{model}' kept moving while this rollback checked where to go; roll back again.");
            }
        }
    }

    // Moves racing a rollback change its target at most this often before the rollback gives up with a 409.
    private const int MaxTargetMoves = 10;

    /// <summary>Checks a version's bytes before it is put in production; a version that fails is never served, so the move is refused.</summary>
    private async Task VerifyAsync(string model, string version, string actor, string refusedMove, CancellationToken ct)
    {
        try
        {
            await integrity.LoadAsync(model, version, actor, ct).ConfigureAwait(false);
        }
        catch (Serving.ModelUnavailableException e)
        {
            throw new ConflictException($"{e.Message} A version that fails this check is not loaded, nor served by name from a copy loaded before, so it is not {refusedMove}. {ModelIntegrity.Remedy(model)}");
        }
    }

    /// <summary>Archives a version and audits it; <c>Changed</c> is false (and nothing is recorded) when it was archived already.</summary>
    public async Task<(RegistryDocument Doc, bool Changed)> ArchiveAsync(string model, string version, string actor, string? reason, CancellationToken ct)
    {
        var before = await registry.GetAsync(model, ct).ConfigureAwait(false) ?? throw await presence.WithoutVersionAsync(model, ct).ConfigureAwait(false);
        var doc = await registry.ArchiveAsync(model, version, actor, reason, ct).ConfigureAwait(false);
        if (before.Versions.Find(v => v.Version == version)?.Status == VersionStatus.Archived) return (doc, false);
        var cleared = before.Aliases.Where(a => a.Value == version).Select(a => a.Key).ToList();
        await audit.RecordAsync(AuditActions.Archive, model, actor, reason, new { Version = version, AliasesCleared = cleared }, ct).ConfigureAwait(false);
        return (doc, true);
    }
}
