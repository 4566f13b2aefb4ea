namespace Serverless.Core.Datasets;

/// <summary>Ingestion limits, bound from <c>Pipeline:Ingestion</c>.</summary>
public sealed class IngestionOptions
{
    public const string Section = "Pipeline:Ingestion";

    /// <summary>Share of rows that may be rejected (ragged, missing label) before the whole file is quarantined.</summary>
    public double MaxInvalidRowShare { get; set; } = 0.1;

    /// <summary>Share of missing values above which a feature column makes the file fail validation.</summary>
    public double MaxMissingShare { get; set; } = 0.95;

    /// <summary>How many example rows of each problem the quarantine report keeps.</summary>
    public int SamplesPerProblem { get; set; } = 5;

    /// <summary>The longest record accepted, in characters; it bounds the reader's buffer and so the memory per file.</summary>
    public int MaxRecordChars { get; set; } = 1024 * 1024;

    /// <summary>Distinct values counted exactly per column; beyond this the count is an estimate.</summary>
    public int DistinctLimit { get; set; } = 10_000;

    /// <summary>
    /// The most a gzip upload may decompress to, in bytes: decompression goes to local disk, so this bounds the disk a
    /// small file can claim (a gzip bomb). Past it the file is quarantined as <c>decompressed_too_large</c>.
    /// </summary>
    public long MaxDecompressedBytes { get; set; } = 8L << 30;

    /// <summary>Most classes a classification label may have.</summary>
    public int MaxClasses { get; set; } = 100;
}
