using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Api;

/// <summary>
/// What a model version takes in a predict request: its feature fields with their JSON types, which ones may be left
/// out (the model's featurization fills them in, and the answer names them as <c>imputed</c>), and the columns that are
/// accepted but not used (the label, excluded and sensitive columns).
/// </summary>
public sealed record InputSignature(string Version, IReadOnlyList<InputField> Fields, IReadOnlyList<string> Ignored)
{
    /// <summary>The signature of a version trained on <paramref name="schema"/>: the fields serving reads, in its order.</summary>
    public static InputSignature Of(string version, DatasetSchema schema) => new(
        version,
        [.. schema.Features.Select(name => InputField.Of(name, schema.Column(name).Kind))],
        [.. schema.Columns.Select(c => c.Name).Where(name => !schema.Features.Contains(name))]);

    /// <summary>
    /// A request a person can send as it is: for each field a typical value of the training data (numbers: the median;
    /// categories and booleans: the most frequent value; text: a placeholder, since the profile keeps no text).
    /// </summary>
    public Dictionary<string, object?> Example(DatasetProfile? profile)
    {
        var example = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var field in Fields)
        {
            var column = profile?.Columns.FirstOrDefault(c => c.Name == field.Name);
            example[field.Name] = field.Kind switch
            {
                ColumnKind.Numeric => column?.Quantiles?.GetValueOrDefault("0.5") is { } median && double.IsFinite(median) ? median : column?.Mean ?? 0,
                ColumnKind.Boolean => column?.TopValues is [var top, ..] && CellValues.ReadBoolean(top.Value, out var flag) == CellReading.Value ? flag : true,
                ColumnKind.Text => "some text",
                _ => column?.TopValues is [var top, ..] ? top.Value : "",
            };
        }
        return example;
    }
}

/// <summary>
/// One field of a predict request: its JSON <see cref="Type"/> (<c>number</c>, <c>boolean</c> or <c>string</c>), the
/// column <see cref="Kind"/> it was trained as, and what happens when it is missing (every field may be: each kind has
/// the value training read for a missing cell).
/// </summary>
public sealed record InputField(string Name, string Type, ColumnKind Kind, string WhenMissing)
{
    public static InputField Of(string name, ColumnKind kind) => new(
        name,
        kind switch { ColumnKind.Numeric => "number", ColumnKind.Boolean => "boolean", _ => "string" },
        kind,
        kind switch
        {
            ColumnKind.Numeric => "imputed: the training mean",
            ColumnKind.Categorical => "imputed: no category",
            ColumnKind.Text => "imputed: no words",
            ColumnKind.DateTime => "imputed: the training mean of each part (instant, year, month, day, weekday, hour, minute)",
            ColumnKind.Boolean => "imputed: false (as training read a missing boolean)",
            _ => "imputed: empty",
        });
}
