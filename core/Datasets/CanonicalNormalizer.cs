using System.Security.Cryptography;
using System.Text;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Datasets;

/// <summary>
/// The second pass, only when needed: rewrites the first pass's canonical file with values normalized to the schema's
/// kinds (booleans as true/false, forced numeric columns), the previous version's rows first when appending, and
/// profiles and hashes the result afresh.
/// </summary>
internal sealed class CanonicalNormalizer(IngestionOptions options, DatasetStore datasets)
{
    /// <summary>
    /// Whether canonical values may differ from the raw ones: booleans spelt other than true/false, non-numbers in a
    /// column the spec made numeric, numbers written with a decimal comma (<see cref="FirstPassResult.Mark"/>), or a classifier's numeric label (written as its class, "1.0" as "1": <see cref="IsNumericClassLabel"/>);
    /// or the raw file holds a column the schema leaves out (<see cref="FirstPassResult.DroppedEmptyLastColumn"/>).
    /// </summary>
    public static bool IsNeeded(DatasetSchema schema, FirstPassResult first) =>
        first.DroppedEmptyLastColumn || (first.Mark != DecimalMark.Point && schema.Columns.Any(c => c.Kind == ColumnKind.Numeric)) || schema.Columns.Select((c, i) => (c, s: first.Stats[i])).Any(x =>
            (x.c.Kind == ColumnKind.Boolean && x.s.Distinct.Keys.Any(k => k is not ("true" or "false")))
            || (x.c.Kind == ColumnKind.Numeric && x.s.Numbers + x.s.NonFinite < x.s.Present)
            || IsNumericClassLabel(schema, x.c));

    /// <summary>
    /// The label of a classifier whose values are numbers: its classes are the numbers' <see cref="CellValues.NumberKey"/>
    /// texts, so the data file must spell each label so for training to find its class.
    /// </summary>
    private static bool IsNumericClassLabel(DatasetSchema schema, ColumnSchema column) =>
        column.Name == schema.Label && schema.Task != TaskKind.Regression && column.Kind == ColumnKind.Numeric;

    /// <summary>Writes the final canonical CSV to <paramref name="output"/>; returns its hash, rows and profile.</summary>
    public (string Path, string Sha256, long Rows, DatasetProfile Profile) Write(
        FirstPassResult first, DatasetSchema schema, DatasetManifest? appendTo, string output, CancellationToken ct)
    {
        var sensitive = new HashSet<string>(schema.Sensitive, StringComparer.Ordinal);
        var classLabel = schema.Columns.Select((c, i) => IsNumericClassLabel(schema, c) ? i : -1).Max();
        var stats = schema.Columns.Select(c => new ColumnStatistics(c.Name, options.DistinctLimit)).ToArray();
        long rows = 0;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var file = File.Create(output))
        using (var hashing = new HashingStream(file, sha))
        using (var writer = new StreamWriter(hashing, CanonicalCsv.Utf8, 1 << 16))
        {
            CanonicalCsv.WriteRecord(writer, [.. schema.Columns.Select(c => c.Name)]);
            var fields = new string?[schema.Columns.Count];
            // The previous version's rows are canonical, with a decimal point; the upload's are written with its own mark.
            void Emit(Func<int, string> value, char mark)
            {
                for (var i = 0; i < fields.Length; i++)
                {
                    fields[i] = CellValues.Canonical(schema.Columns[i].Kind, value(i), mark);
                    if (i == classLabel && fields[i] is { } label) fields[i] = CellValues.ClassLabel(label);
                    stats[i].Add((fields[i] ?? "").AsSpan());
                }
                CanonicalCsv.WriteRecord(writer, fields);
                rows++;
            }
            if (appendTo is not null)
            {
                using var stream = datasets.OpenData(appendTo, ct);
                using var prior = CanonicalCsv.OpenReader(new StreamReader(stream, Encoding.UTF8));
                var map = schema.Columns.Select(c => prior.GetOrdinal(c.Name)).ToArray();
                while (prior.Read()) Emit(i => prior.GetString(map[i]), DecimalMark.Point);
            }
            using var raw = CanonicalCsv.OpenReader(new StreamReader(first.RawPath, Encoding.UTF8));
            while (raw.Read()) Emit(i => raw.GetString(i), first.Mark);
        }
        var profile = new DatasetProfile
        {
            Model = "", DatasetVersion = "", Rows = rows,
            Columns = [.. schema.Columns.Select((c, i) => stats[i].Profile(c.Kind, sensitive.Contains(c.Name)))],
        };
        return (output, Convert.ToHexStringLower(sha.GetHashAndReset()), rows, profile);
    }
}
