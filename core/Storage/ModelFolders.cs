using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Serverless.Core.Storage;

/// <summary>The models a container holds something for: its top-level folders, each named after a model.</summary>
public static class ModelFolders
{
    /// <summary>
    /// The names of the container's top-level folders, in the container's (ordinal) order; with <paramref name="marker"/>,
    /// only those holding a blob of that name (e.g. <c>registry.json</c>), so a folder left half-written does not count.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ListAsync(BlobContainerClient container, string? marker, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var item in container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", prefix: null, ct).ConfigureAwait(false))
        {
            if (!item.IsPrefix) continue;
            if (marker is not null && !await container.GetBlobClient(item.Prefix + marker).ExistsAsync(ct).ConfigureAwait(false)) continue;
            names.Add(item.Prefix.TrimEnd('/'));
        }
        return names;
    }
}
