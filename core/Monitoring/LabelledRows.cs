using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Serverless.Core.Monitoring;

/// <summary>A logged prediction with the ground truth feedback gave it: the row's inputs, the answer, and the label.</summary>
public sealed record LabelledRow(PredictionLogEntry Prediction, JsonElement Label, DateTimeOffset LabelledAt)
{
    /// <summary>The row's fields as the request sent them (sensitive columns never logged, so never here).</summary>
    public IReadOnlyDictionary<string, JsonElement> Inputs => Prediction.Inputs;
}

/// <summary>
/// The labelled rows of a model: its logged predictions joined with their feedback by request id and row. This is what
/// retraining on live data reads: <see cref="ReadAsync"/> gives, for the predictions logged in a window, the row's
/// inputs (<see cref="LabelledRow.Inputs"/>, keyed by column name as the request sent them) and the true label
/// (<see cref="LabelledRow.Label"/>: a JSON number for regression, a class name for a classifier), oldest window first.
/// Where a row got feedback more than once, the latest counts.
/// </summary>
public sealed class LabelledRowsReader(PredictionLogReader log, FeedbackReader feedback)
{
    /// <summary>
    /// The logged predictions of <paramref name="model"/> made in [<paramref name="from"/>, <paramref name="to"/>) that
    /// have feedback (received any time from <paramref name="from"/> until now), optionally of one version only.
    /// </summary>
    public async IAsyncEnumerable<LabelledRow> ReadAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var labels = await LabelsAsync(model, from, ct).ConfigureAwait(false);
        if (labels.Count == 0) yield break; // no feedback: no log to read
        await foreach (var entry in log.ReadAsync(model, from, to, version, (id, row) => labels.ContainsKey((id, row)), ct).ConfigureAwait(false))
        {
            // A prediction that reused a labelled request id (made after the feedback) is not the one labelled.
            var label = labels[(entry.RequestId, entry.Row)];
            if (label.Labels(entry)) yield return new LabelledRow(entry, label.Label, label.Time);
        }
    }

    /// <summary>The latest feedback of each request id and row, received from <paramref name="from"/> until now.</summary>
    internal Task<Dictionary<(string RequestId, int Row), FeedbackEntry>> LabelsAsync(string model, DateTimeOffset from, CancellationToken ct) =>
        feedback.LatestAsync(model, from, DateTimeOffset.UtcNow.AddMinutes(1), ct: ct);
}
