using Serverless.Core.Specs;

namespace Serverless.Core.Serving;

/// <summary>
/// Request rows read into a model's input columns, column by column: numbers as <see cref="float"/> (NaN when missing),
/// booleans as <see cref="bool"/>, categories and text as character memory (empty when missing), exactly the types the
/// training loader gives the same columns. Indexed by the column's position in the model's input schema.
/// </summary>
internal sealed class ModelInput
{
    public ModelInput(IReadOnlyList<ColumnKind> kinds, int rows)
    {
        Count = rows;
        Singles = new float[]?[kinds.Count];
        Booleans = new bool[]?[kinds.Count];
        Texts = new ReadOnlyMemory<char>[]?[kinds.Count];
        for (var c = 0; c < kinds.Count; c++)
        {
            switch (kinds[c])
            {
                case ColumnKind.Numeric: Singles[c] = new float[rows]; break;
                case ColumnKind.Boolean: Booleans[c] = new bool[rows]; break;
                default: Texts[c] = new ReadOnlyMemory<char>[rows]; break;
            }
        }
        Imputed = new IReadOnlyList<string>?[rows];
        Unseen = new IReadOnlyList<string>?[rows];
    }

    public int Count { get; }
    public float[]?[] Singles { get; }
    public bool[]?[] Booleans { get; }
    public ReadOnlyMemory<char>[]?[] Texts { get; }

    /// <summary>Per row, the fields that were missing and left to the model's featurization to fill in; null when none.</summary>
    public IReadOnlyList<string>?[] Imputed { get; }

    /// <summary>Per row, the categorical fields whose value the model never saw in training (scored as no category); null when none.</summary>
    public IReadOnlyList<string>?[] Unseen { get; }
}
