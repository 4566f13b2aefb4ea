using System.Security.Cryptography;
using System.Text.Json;
using Serverless.Core.Storage;

namespace Serverless.Core.Specs;

/// <summary>One accepted version of a model's spec: what it says, who set it, when, from where and why.</summary>
public sealed record SpecVersion
{
    /// <summary>1, 2, 3, ... per model.</summary>
    public required int Version { get; init; }
    public required ModelSpec Spec { get; init; }

    /// <summary>sha256 of the spec's canonical JSON: equal specs have equal hashes whatever their key order or spacing.</summary>
    public required string Sha256 { get; init; }
    public required DateTimeOffset SetAt { get; init; }
    public required string By { get; init; }

    /// <summary>Where it came from: <c>api</c>, or the drop-zone blob (<c>incoming/{model}/model.json</c>).</summary>
    public required string Source { get; init; }
    public string? Reason { get; init; }

    /// <summary>The copy kept with a dataset version or a model version.</summary>
    public SpecSnapshot Snapshot() => new(Version, Sha256, Spec);

    public static string Hash(ModelSpec spec) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(spec, Canonical)));

    private static readonly JsonSerializerOptions Canonical = new(JsonBlobs.Options) { WriteIndented = false };
}

/// <summary>
/// The spec a dataset version was ingested under, or a model version was trained under: its version number (0 when the
/// model had no spec and everything was inferred), hash and content.
/// </summary>
public sealed record SpecSnapshot(int Version, string Sha256, ModelSpec Spec)
{
    /// <summary>The snapshot of "no spec": everything inferred.</summary>
    public static SpecSnapshot None { get; } = new(0, SpecVersion.Hash(new ModelSpec()), new ModelSpec());

    public static SpecSnapshot Of(SpecVersion? version) => version?.Snapshot() ?? None;

    /// <summary>Whether a run under <paramref name="other"/> trains what a run under this one does (<see cref="ModelSpec.TrainingPart"/>).</summary>
    public bool TrainsLike(SpecSnapshot other) =>
        Sha256 == other.Sha256 || SpecVersion.Hash(Spec.TrainingPart()) == SpecVersion.Hash(other.Spec.TrainingPart());
}
