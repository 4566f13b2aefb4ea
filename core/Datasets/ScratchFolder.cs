namespace Serverless.Core.Datasets;

/// <summary>A temporary folder deleted when disposed.</summary>
internal sealed class ScratchFolder : IDisposable
{
    private readonly string _path = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingest-" + Guid.NewGuid().ToString("N"))).FullName;

    public string File(string name) => Path.Combine(_path, name);

    public void Dispose()
    {
        try { Directory.Delete(_path, recursive: true); } catch (IOException) { }
    }
}
