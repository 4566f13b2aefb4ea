namespace Serverless.Benchmarks;

/// <summary>The shared taxi data scaled by repetition to a target size, written once to a temporary file.</summary>
public static class ScaledData
{
    public static string Datasets { get; } = FindDatasets();

    public static string Taxi(long targetBytes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"taxi-scaled-{targetBytes}.csv");
        if (File.Exists(path) && new FileInfo(path).Length >= targetBytes) return path;
        var lines = File.ReadAllLines(Path.Combine(Datasets, "taxi", "taxi-fare-train.csv"));
        using var writer = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 20);
        writer.Write(lines[0]);
        writer.Write('\n');
        long written = 0;
        while (written < targetBytes)
        {
            for (var i = 1; i < lines.Length && written < targetBytes; i++)
            {
                writer.Write(lines[i]);
                writer.Write('\n');
                written += lines[i].Length + 1;
            }
        }
        return path;
    }

    private static string FindDatasets()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "datasets");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("shared/datasets not found above " + AppContext.BaseDirectory);
    }
}
