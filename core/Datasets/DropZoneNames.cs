using Serverless.Core.Hosting;

namespace Serverless.Core.Datasets;

/// <summary>The names of the drop zone: <c>{model}/{file}</c>, which files are data, and which are gzip-compressed.</summary>
public static class DropZoneNames
{
    private static readonly string[] DataExtensions = [".csv", ".tsv", ".txt"];

    /// <summary>
    /// Where files dropped under a folder that is no valid model name are quarantined (<c>quarantine/_invalid/…</c>). No
    /// model can have this name, so the models list shows it apart, and its quarantine route lists the files.
    /// </summary>
    public const string InvalidFolder = "_invalid";

    /// <summary>Splits <c>{model}/{file}</c>; names with traversal, encoded separators or control characters are refused.</summary>
    public static (string? Model, string? File, string? Problem) Parse(string blobName)
    {
        var parts = blobName.Split('/');
        var model = parts.Length > 0 && ModelNames.IsValid(parts[0]) ? parts[0] : null;
        if (parts.Length != 2) return (model, null, $"Blob names in the drop zone are '{{model}}/{{file}}'; '{CellValues.Escape(blobName)}' has {parts.Length - 1} separator(s).");
        if (model is null) return (null, null, $"'{CellValues.Escape(parts[0])}' is not a valid model name: {ModelNames.Rule}.");
        var file = parts[1];
        if (file.Length == 0 || file is "." or ".." || file.Contains("..", StringComparison.Ordinal) || file.Contains('\\') || file.Any(char.IsControl))
        {
            return (model, null, $"The file name '{CellValues.Escape(file)}' is not allowed (traversal, backslash or control characters).");
        }
        if (file.Contains('%') && Uri.UnescapeDataString(file) != file)
        {
            return (model, null, $"The file name '{CellValues.Escape(file)}' holds URL-encoded characters; upload it under a plain name.");
        }
        return (model, file, null);
    }

    /// <summary>The data files the drop zone reads, in words: ".csv, .tsv or .txt (optionally .gz)".</summary>
    public static string Accepted => $"{string.Join(", ", DataExtensions[..^1])} or {DataExtensions[^1]} (optionally .gz)";

    /// <summary>The data extension of a file name (<c>.csv</c>, <c>.tsv</c>, <c>.txt</c>, each optionally with <c>.gz</c>); null for any other file.</summary>
    public static string? DataExtension(string file)
    {
        var name = IsGzip(file) ? file[..^3] : file;
        return DataExtensions.FirstOrDefault(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    public static bool IsGzip(string file) => file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
}
