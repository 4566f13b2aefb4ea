using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Serverless.Core.Registry;
using Serverless.Core.Training;

namespace Serverless.Core.Serving;

/// <summary>
/// A loaded, verified model version: its transformer, the reader of request rows for its schema, and a pool of
/// <see cref="RowScorer"/>s. The pool belongs to this object, so when a newer version is swapped in and the last request
/// on this one ends, its scorers go with it.
/// </summary>
internal sealed class LoadedModel
{
    private readonly ITransformer _model;
    private readonly DataViewSchema _inputSchema;
    private readonly ModelOutputs _outputs;
    private readonly ObjectPool<RowScorer> _scorers;
    private readonly CompiledTrees? _trees;

    private LoadedModel(ModelManifest manifest, ITransformer model, DataViewSchema inputSchema)
    {
        Manifest = manifest;
        _model = model;
        _inputSchema = inputSchema;
        var outputSchema = model.GetOutputSchema(inputSchema);
        Input = new PredictionInput(manifest.Schema, inputSchema, FeaturePipeline.KnownCategories(manifest.Schema, outputSchema));
        _outputs = ModelOutputs.Read(manifest.Schema, outputSchema);
        _trees = CompiledTrees.For(model, _outputs.Task);
        // Room for a scorer per thread that may score at once: one dropped by a full pool costs a new mapper (~0.1 ms) later.
        _scorers = new DefaultObjectPool<RowScorer>(new ScorerPolicy(this), Math.Max(16, Environment.ProcessorCount * 4));
    }

    public ModelManifest Manifest { get; }
    public string Version => Manifest.Version;

    /// <summary>Reads request rows into this version's input columns.</summary>
    public PredictionInput Input { get; }

    /// <summary>
    /// Loads a version from its verified bytes. The input schema is the one the training loader gives the feature
    /// columns (<see cref="FeaturePipeline.Loader"/>), so the model sees the same column types it was trained on. One
    /// scorer is made and run once here, so the first request does not pay for it.
    /// </summary>
    public static LoadedModel Create(ModelManifest manifest, byte[] zip)
    {
        var ml = FeaturePipeline.Context(manifest.Reproducibility.Seed);
        ITransformer model;
        using (var stream = new MemoryStream(zip, writable: false)) model = ml.Model.Load(stream, out _);
        var inputSchema = FeaturePipeline.Loader(ml, manifest.Schema, withLabel: false).GetOutputSchema();
        var loaded = new LoadedModel(manifest, model, inputSchema);
        loaded.WarmUp();
        return loaded;
    }

    /// <summary>
    /// Reads request rows into this version's input columns and scores them; thread-safe. A single row is read into the
    /// pooled scorer's own one-row input, so the hottest request allocates no input columns; more rows are read into new
    /// columns and scored as <see cref="Score"/> does.
    /// </summary>
    /// <exception cref="Api.BadRequestException">A row does not fit the model (see <see cref="PredictionInput.Read"/>).</exception>
    public IReadOnlyList<RowPrediction> Predict(IReadOnlyList<System.Text.Json.JsonElement> rows)
    {
        if (rows.Count != 1) return Score(Input.Read(rows));
        var scorer = _scorers.Get();
        try
        {
            return [scorer.Score(Input.Read(rows, scorer.OneRow), 0)];
        }
        finally
        {
            _scorers.Return(scorer);
        }
    }

    /// <summary>Batches of at least this many rows are split across the machine's cores.</summary>
    internal const int ParallelRows = 256;

    /// <summary>
    /// Scores every row with pooled scorers; thread-safe. A batch of <see cref="ParallelRows"/> rows or more is cut into
    /// one contiguous part per core (at most), each scored by its own pooled scorer, so a large batch takes about the
    /// time of its part; smaller ones stay on the request's thread, where a split would cost more than it saves.
    /// </summary>
    public IReadOnlyList<RowPrediction> Score(ModelInput input)
    {
        var predictions = new RowPrediction[input.Count];
        var parts = input.Count < ParallelRows ? 1 : Math.Min(Environment.ProcessorCount, input.Count / (ParallelRows / 2));
        if (parts <= 1)
        {
            ScoreRange(input, predictions, 0, input.Count);
            return predictions;
        }
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
            ScoreRange(input, predictions, (int)((long)input.Count * part / parts), (int)((long)input.Count * (part + 1) / parts)));
        return predictions;
    }

    private void ScoreRange(ModelInput input, RowPrediction[] predictions, int from, int to)
    {
        var scorer = _scorers.Get();
        try
        {
            for (var r = from; r < to; r++) predictions[r] = scorer.Score(input, r);
        }
        finally
        {
            _scorers.Return(scorer);
        }
    }

    private void WarmUp()
    {
        var row = new ModelInput(Input.Kinds, 1);
        for (var c = 0; c < Input.Kinds.Count; c++)
        {
            if (row.Singles[c] is { } singles) singles[0] = float.NaN;
        }
        Score(row);
    }

    private sealed class ScorerPolicy(LoadedModel owner) : PooledObjectPolicy<RowScorer>
    {
        public override RowScorer Create() => new(owner._model, owner._inputSchema, owner._outputs, owner.Input.Kinds, owner._trees);

        public override bool Return(RowScorer scorer) => true;
    }
}
