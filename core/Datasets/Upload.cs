namespace Serverless.Core.Datasets;

/// <summary>One blob of the drop zone as downloaded: the version its ETag names, its bytes' hash, and the local copy.</summary>
internal sealed record Upload(string BlobName, string ETag, DateTimeOffset? UploadedAt, long Bytes, string Sha256, string Path);
