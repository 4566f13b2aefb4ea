using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// How a dataset version's canonical CSV is loaded and featurized: one place, used for training, evaluation and
/// prediction so the three read data identically. The label is prepared outside the saved model, so a saved model never
/// needs the label column at prediction time.
/// </summary>
public static class FeaturePipeline
{
    /// <summary>The prepared label's usual name (<see cref="PreparedLabel"/>).</summary>
    public const string LabelColumn = "Label";
    public const string FeaturesColumn = "Features";

    /// <summary>The output column of a classifier's predicted class name (multiclass).</summary>
    public const string PredictedClassColumn = "PredictedClass";

    /// <summary>Categorical columns with more distinct values than this are hashed rather than one-hot encoded.</summary>
    public const int MaxOneHotKeys = 1000;

    /// <summary>
    /// The <see cref="MLContext"/> every model of this project is trained, loaded and scored with: seeded, and with the
    /// assembly of the custom mappings the featurization saves into models (<see cref="DateFeatures"/>) registered, as
    /// ML.NET asks of a context that loads a model holding one.
    /// </summary>
    public static MLContext Context(int seed)
    {
        var ml = new MLContext(seed);
        ml.ComponentCatalog.RegisterAssembly(typeof(DateFeatures).Assembly);
        return ml;
    }

    /// <summary>A loader of the canonical CSV with every column of the schema, typed by its kind.</summary>
    public static TextLoader Loader(MLContext ml, DatasetSchema schema, bool withLabel = true)
    {
        var columns = new List<TextLoader.Column>();
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            var column = schema.Columns[i];
            if (column.Name == schema.Label)
            {
                if (!withLabel) continue;
                columns.Add(new TextLoader.Column(RawLabel(schema), schema.Task == TaskKind.Regression ? DataKind.Single : DataKind.String, i));
                continue;
            }
            if (!schema.Features.Contains(column.Name)) continue;
            columns.Add(new TextLoader.Column(column.Name, KindOf(column.Kind), i));
        }
        return ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Columns = [.. columns],
            HasHeader = true,
            Separators = [','],
            AllowQuoting = true,
            ReadMultilines = true,
            MissingRealsAsNaNs = true,
            TrimWhitespace = false,
        });
    }

    public static DataKind KindOf(ColumnKind kind) => kind switch
    {
        ColumnKind.Numeric => DataKind.Single,
        ColumnKind.Boolean => DataKind.Boolean,
        _ => DataKind.String,
    };

    /// <summary>The name the raw label is loaded under (kept apart from the prepared <see cref="PreparedLabel"/>), a name no feature has.</summary>
    public static string RawLabel(DatasetSchema schema) => NotAFeature(schema, "RawLabel");

    /// <summary>
    /// The name of the label the trainers learn and the metrics read: <see cref="LabelColumn"/>, or, where a feature is so
    /// named, that name with underscores before it until no feature has it. The prepared label is added to the rows before
    /// the model's featurization reads them, so under a feature's name it would replace that feature in training (the
    /// model would learn the label as a feature) but not in serving, whose rows have no label.
    /// </summary>
    public static string PreparedLabel(DatasetSchema schema) => NotAFeature(schema, LabelColumn);

    private static string NotAFeature(DatasetSchema schema, string name)
    {
        while (schema.Features.Contains(name, StringComparer.Ordinal)) name = "_" + name;
        return name;
    }

    /// <summary>Turns the raw label into the trainer's label: float, bool (is the positive class), or key over the sorted classes.</summary>
    public static ITransformer FitLabel(MLContext ml, DatasetSchema schema, IDataView data)
    {
        var raw = RawLabel(schema);
        var label = PreparedLabel(schema);
        switch (schema.Task)
        {
            case TaskKind.Regression:
                return ml.Transforms.CopyColumns(label, raw).Fit(data);
            case TaskKind.Binary:
                var classes = schema.Classes ?? throw new InvalidOperationException("A binary task needs its two classes in the schema.");
                var pairs = classes.Select(c => new KeyValuePair<ReadOnlyMemory<char>, bool>(c.AsMemory(), c == schema.PositiveClass));
                return ml.Transforms.Conversion.MapValue(label, pairs, raw).Fit(data);
            case TaskKind.Multiclass:
                var keys = ml.Data.LoadFromEnumerable((schema.Classes ?? []).Select(c => new ClassRow { Value = c }));
                return ml.Transforms.Conversion.MapValueToKey(label, raw, keyData: keys).Fit(data);
            default:
                throw new ArgumentOutOfRangeException(nameof(schema));
        }
    }

    /// <summary>The model input a feature column becomes: <c>f_{column}</c>, and its slots <c>f_{column}.{value}</c> where it makes several.</summary>
    public static string FeatureColumn(string column) => "f_" + column;

    /// <summary>
    /// The categories a trained model knows, per categorical feature it one-hot encodes: the slot names of its encoded
    /// column. A value outside them reaches the model as no category, as a missing one does. A hashed column (more than
    /// <see cref="MaxOneHotKeys"/> values) keeps no names and is left out.
    /// </summary>
    public static IReadOnlyDictionary<string, HashSet<string>> KnownCategories(DatasetSchema schema, DataViewSchema outputSchema)
    {
        var known = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var name in schema.Features.Where(n => schema.Column(n).Kind == ColumnKind.Categorical))
        {
            if (outputSchema.GetColumnOrNull(FeatureColumn(name)) is not { } column
                || !column.HasSlotNames()) continue;
            VBuffer<ReadOnlyMemory<char>> slots = default;
            column.GetSlotNames(ref slots);
            known[name] = slots.DenseValues().Select(v => v.ToString()).ToHashSet(StringComparer.Ordinal);
        }
        return known;
    }

    /// <summary>
    /// The featurization estimator for the schema's feature columns; <paramref name="normalize"/> for linear trainers:
    /// each slot mapped onto [0, 1] by its minimum and maximum, so the L2 penalty weighs every feature alike. ML.NET's
    /// default keeps 0 fixed (divides by the largest magnitude only), which leaves a positive feature such as wine's
    /// magnesium (70 to 162) on 0.43 to 1: over 20 random splits of wine's 178 rows, Sdca's test macro-accuracy was
    /// 0.976 with it and 0.983 with the full range (scikit-learn's logistic regression on min-max-scaled features 0.986).
    /// A slot whose minimum is 0 (one-hot, counts, words) is only divided, so sparse text vectors stay sparse.
    /// Columns of one kind share one transform (every number's mean replacement is one ReplaceMissingValues over all the
    /// numbers), in one flat chain: ML.NET fits each transform with a pass over the rows and builds a schema per
    /// transform, so a transform per column took 3.8 s a fit on 300 numeric columns against 0.09 s for one, and a chain
    /// nested one level per column (as appending to an <c>IEstimator</c> makes) took minutes.
    /// </summary>
    public static IEstimator<ITransformer> Featurize(MLContext ml, DatasetSchema schema, IReadOnlyDictionary<string, long>? distinctCounts, bool normalize)
    {
        var chain = new EstimatorChain<ITransformer>();
        void Add(IEstimator<ITransformer> step) => chain = chain.Append(step);
        var numbers = new List<InputOutputColumnPair>();
        var booleans = new List<InputOutputColumnPair>();
        var categories = new List<InputOutputColumnPair>();
        var hashed = new List<InputOutputColumnPair>();
        var parts = new List<string>();

        foreach (var name in schema.Features)
        {
            var kind = schema.Column(name).Kind;
            var output = FeatureColumn(name);
            switch (kind)
            {
                case ColumnKind.Numeric:
                    numbers.Add(new(output, name));
                    break;
                case ColumnKind.Boolean:
                    booleans.Add(new(output, name));
                    break;
                case ColumnKind.Categorical:
                    (distinctCounts?.GetValueOrDefault(name) > MaxOneHotKeys ? hashed : categories).Add(new(output, name));
                    break;
                case ColumnKind.Text:
                    Add(ml.Transforms.Text.FeaturizeText(output, name));
                    break;
                case ColumnKind.DateTime:
                    parts.AddRange(DateFeatures.Featurize(ml, name, output, Add));
                    continue;
                default:
                    continue;
            }
            parts.Add(output);
        }
        if (parts.Count == 0) throw new InvalidOperationException("The dataset has no usable feature column.");
        if (numbers.Count > 0) Add(ml.Transforms.ReplaceMissingValues([.. numbers], Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean));
        if (booleans.Count > 0) Add(ml.Transforms.Conversion.ConvertType([.. booleans], DataKind.Single));
        if (categories.Count > 0) Add(ml.Transforms.Categorical.OneHotEncoding([.. categories], maximumNumberOfKeys: MaxOneHotKeys));
        if (hashed.Count > 0) Add(ml.Transforms.Categorical.OneHotHashEncoding([.. hashed], numberOfBits: 12));
        Add(ml.Transforms.Concatenate(FeaturesColumn, [.. parts]));
        if (normalize) Add(ml.Transforms.NormalizeMinMax(FeaturesColumn, fixZero: false));
        return chain;
    }

    private sealed class ClassRow
    {
        public string Value { get; set; } = "";
    }
}
