namespace Serverless.Core.Datasets;

/// <summary>Row-level problems: counted per code, with the first line numbers and samples kept for the report.</summary>
public sealed class ProblemLog(int samplesPerProblem)
{
    private readonly Dictionary<string, ProblemEntry> _entries = new(StringComparer.Ordinal);

    public IReadOnlyList<ProblemEntry> Entries => [.. _entries.Values];

    public void Add(string code, long line, string detail, string? sample)
    {
        if (!_entries.TryGetValue(code, out var entry)) _entries[code] = entry = new ProblemEntry(code);
        entry.Count++;
        if (entry.Lines.Count < samplesPerProblem)
        {
            entry.Lines.Add(line);
            entry.Details.Add(detail);
            if (sample is not null) entry.Samples.Add(sample);
        }
    }
}

/// <summary>One kind of row-level problem in a file.</summary>
public sealed class ProblemEntry(string code)
{
    public string Code { get; } = code;
    public long Count { get; set; }
    public List<long> Lines { get; } = [];
    public List<string> Details { get; } = [];
    public List<string> Samples { get; } = [];
}
