using Microsoft.ML;
using Microsoft.ML.Data;

namespace Serverless.Core.Serving;

/// <summary>
/// One row of a <see cref="ModelInput"/> as an ML.NET row, for a model's row-to-row mapper: moved from row to row
/// without allocating, each move a new <see cref="Position"/> so that transforms caching per position recompute.
/// Not thread-safe: each <see cref="RowScorer"/> owns one.
/// </summary>
internal sealed class ModelInputRow : DataViewRow
{
    private readonly DataViewSchema _schema;
    private readonly Delegate[] _getters;
    private ModelInput? _input;
    private int _index;
    private long _position = -1;

    public ModelInputRow(DataViewSchema schema)
    {
        _schema = schema;
        _getters = new Delegate[schema.Count];
        foreach (var column in schema)
        {
            var c = column.Index;
            _getters[c] = column.Type switch
            {
                NumberDataViewType t when t.RawType == typeof(float) => (ValueGetter<float>)((ref float value) => value = _input!.Singles[c]![_index]),
                BooleanDataViewType => (ValueGetter<bool>)((ref bool value) => value = _input!.Booleans[c]![_index]),
                TextDataViewType => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = _input!.Texts[c]![_index]),
                _ => throw new NotSupportedException($"Input column '{column.Name}' has type {column.Type}, which serving does not read."),
            };
        }
    }

    public void MoveTo(ModelInput input, int index)
    {
        _input = input;
        _index = index;
        _position++;
    }

    public override DataViewSchema Schema => _schema;
    public override long Position => _position;
    public override long Batch => 0;

    public override bool IsColumnActive(DataViewSchema.Column column) => true;

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _getters[column.Index] as ValueGetter<TValue>
        ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);
}
