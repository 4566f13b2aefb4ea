using Microsoft.Extensions.Options;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;

namespace Serverless.Core.Monitoring;

/// <summary>
/// One drift check of a model: the logged live inputs of the window against a deterministic sample of the production
/// version's training data, feature by feature, the production version's outputs against its answers on the reference,
/// and the dataset's verdict. A model without a production version, without traffic, or with fewer rows than the minimum
/// gets a report that says so. What follows from the verdict (consecutive checks, retraining) is the caller's.
/// </summary>
public sealed class DriftChecker(ModelRegistry registry, ModelPresence presence, ModelSpecStore specs, DriftInputs inputs, LabelledRowsReader labelled,
    IOptions<DriftOptions> options)
{
    public async Task<(DriftReport Report, DriftSettings Settings)> CheckAsync(string model, string trigger, DateTimeOffset now, CancellationToken ct)
    {
        var doc = await registry.GetAsync(model, ct).ConfigureAwait(false);
        if (doc is null) await presence.EnsureExistsAsync(model, ct).ConfigureAwait(false);
        var spec = await specs.GetAsync(model, ct).ConfigureAwait(false);
        var settings = DriftSettings.From(spec.Drift, options.Value);
        var report = new DriftReport
        {
            Model = model,
            CheckId = Guid.NewGuid().ToString("N")[..12],
            CheckedAt = now,
            Trigger = trigger,
            Status = DriftStatus.NoProductionVersion,
            Message = "",
            WindowStart = now - settings.Window,
            WindowEnd = now,
            MinRows = settings.MinRows,
            MaxRows = settings.MaxRows,
            ConsecutiveRequired = settings.Consecutive,
        };

        if (doc is null || !doc.Aliases.TryGetValue(ModelRegistry.Production, out var version)
            || await registry.GetManifestAsync(model, version, ct).ConfigureAwait(false) is not { } production)
        {
            return (report with { Message = $"Model '{model}' has no production version: nothing serves traffic, so there is nothing to compare. Promote or approve a version." }, settings);
        }
        report = report with { ProductionVersion = production.Version, DatasetVersion = production.DatasetVersion };

        var current = await inputs.ReadCurrentAsync(model, production.Version, report.WindowStart, now, settings.MaxRows, production.Schema.Features, ct).ConfigureAwait(false);
        report = report with { LoggedRows = current.LoggedRows, CurrentRows = current.Rows.Count };
        if (current.LoggedRows == 0)
        {
            return (report with { Status = DriftStatus.NoTraffic, Message = $"No predictions of '{model}' answered by {production.Version} were logged between {report.WindowStart:u} and {now:u}: no verdict." }, settings);
        }
        if (current.LoggedRows < settings.MinRows)
        {
            return (report with
            {
                Status = DriftStatus.NotEnoughData,
                Message = $"Not enough data: {current.LoggedRows} logged rows in the window, at least {settings.MinRows} are needed for a verdict (drift.minRows).",
            }, settings);
        }

        var reference = await inputs.ReadReferenceAsync(model, production, settings.MaxReferenceRows, ct).ConfigureAwait(false);
        if (reference is null || reference.Rows.Count == 0)
        {
            return (report with
            {
                Status = DriftStatus.NoReference,
                Message = $"The training data of {production.Version} (dataset version {production.DatasetVersion}) could not be read: no reference to compare with.",
            }, settings);
        }

        var notes = new List<string>();
        var features = new List<FeatureDrift>();
        var columns = reference.Schema.Columns.Select((c, i) => (c.Name, i)).ToDictionary(c => c.Name, c => c.i, StringComparer.Ordinal);
        // A column the spec in force calls sensitive is no longer logged (PredictionLogEncoder leaves it out): the window would
        // read it as missing everywhere, and its reference values are not to be shown.
        var sensitive = new HashSet<string>(spec.Sensitive ?? [], StringComparer.Ordinal);
        // Why each feature left out was left out: a note of the report, and the reason a verdict without features gives.
        var uncomparedWhy = new List<string>();
        void NotCompared(string why)
        {
            var note = $"{why}; not compared.";
            notes.Add(note);
            uncomparedWhy.Add(note);
        }
        foreach (var name in production.Schema.Features)
        {
            if (sensitive.Contains(name))
            {
                NotCompared($"{name}: sensitive in the spec in force, so its live values are not logged");
                continue;
            }
            if (!columns.TryGetValue(name, out var index))
            {
                NotCompared($"{name}: not in the reference data");
                continue;
            }
            var kind = reference.Schema.Columns[index].Kind;
            FeatureDrift? feature;
            switch (kind)
            {
                case ColumnKind.Numeric:
                    var refNumbers = reference.Rows.Select(r => r[index] is { } s && CellValues.TryNumber(s, out var n) ? n : double.NaN).ToArray();
                    var curNumbers = DriftInputs.Numbers(current.Rows, name, reference.Schema.DecimalSeparator);
                    feature = DriftDetector.CompareNumeric(name, refNumbers, curNumbers, reference.Rows.Count, settings);
                    break;
                case ColumnKind.Categorical or ColumnKind.Boolean:
                    feature = DriftDetector.CompareCategorical(name, reference.Rows.Select(r => r[index]),
                        current.Rows.Of(name).Select(v => DriftInputs.Category(v, kind)), reference.Rows.Count, settings);
                    break;
                case ColumnKind.DateTime:
                    features.AddRange(DriftDetector.CompareDate(name, [.. reference.Rows.Select(r => r[index])], [.. current.Rows.Of(name)], settings.Window, settings, out var note));
                    notes.Add(note);
                    continue;
                default:
                    NotCompared($"{name}: a {kind.ToString().ToLowerInvariant()} column");
                    continue;
            }
            if (feature is null) NotCompared($"{name}: no value in the reference nor in the window");
            else features.Add(feature);
        }

        var prediction = ComparePredictions(production, reference, current, settings, notes);
        var concept = await ConceptAsync(model, production, report.WindowStart, now, settings, ct).ConfigureAwait(false);
        var dataset = DriftDetector.DatasetVerdict(features, settings.DriftShare);
        // With no feature drift can compare (text alone), the distribution of the answers is the data's only signal.
        var answersDecide = dataset.Features == 0;
        var status = dataset.Drifted || concept?.Drifted == true || (answersDecide && prediction?.Drifted == true) ? DriftStatus.Drift
            : answersDecide ? DriftStatus.NoComparableFeatures : DriftStatus.NoDrift;
        var drifted = features.Where(f => f.Drifted).Select(f => f.Name).ToList();
        var shares = $"{dataset.DriftedFeatures} of {dataset.Features} features drifted ({dataset.Share:P0}, threshold {dataset.Threshold:P0})";
        var uncompared = $"no feature could be compared ({string.Join(" ", uncomparedWhy)})";
        var answers = prediction is null ? "" : $"the distribution of the answers ({prediction.Method}, statistic {prediction.Statistic:G4}{(prediction.PValue is { } p ? $", p = {p:G3}" : "")}, threshold {prediction.Threshold:G3})";
        var message = status switch
        {
            DriftStatus.NoComparableFeatures => $"No drift verdict on the data: {uncompared}, and {(prediction is null ? "the answers could not be compared either" : $"{answers} did not move")}.",
            DriftStatus.Drift when answersDecide && concept?.Drifted != true => $"Prediction drift: {uncompared}, and {answers} moved.",
            DriftStatus.Drift when !dataset.Drifted => $"Concept drift: {concept!.Message} Data: {shares}.",
            DriftStatus.Drift => $"Drift: {shares}: {string.Join(", ", drifted)}." + (concept?.Drifted == true ? $" Concept drift too: {concept.Message}" : ""),
            _ => $"No drift: {shares}" + (drifted.Count > 0 ? $": {string.Join(", ", drifted)}." : "."),
        };
        return (report with
        {
            Status = status,
            Message = message,
            ReferenceDatasetRows = reference.DatasetRows,
            ReferenceRows = reference.Rows.Count,
            Dataset = dataset,
            Features = features,
            Prediction = prediction,
            Concept = concept,
            Notes = notes,
        }, settings);
    }

    /// <summary>Fewest labelled rows for a concept-drift verdict.</summary>
    public const int MinLabelledRows = 30;

    /// <summary>
    /// Concept drift: the production version's primary metric on the window's labelled rows (feedback) against its
    /// validation metric; drifted when it is worse by at least <c>drift.metricTolerance</c> (relative). Null without feedback.
    /// </summary>
    private async Task<ConceptDrift?> ConceptAsync(string model, ModelManifest production, DateTimeOffset from, DateTimeOffset to, DriftSettings settings, CancellationToken ct)
    {
        var rows = new List<(Serving.RowPrediction Output, System.Text.Json.JsonElement Label)>();
        await foreach (var row in labelled.ReadAsync(model, from, to, production.Version, ct).ConfigureAwait(false)) rows.Add((row.Prediction.Output, row.Label));
        if (rows.Count == 0) return null;
        var metric = production.PrimaryMetric;
        var validation = production.ValidationMetrics.GetValueOrDefault(metric, double.NaN);
        var live = LiveMetrics.Compute(production.Schema, rows);
        if (!live.TryGetValue(metric, out var value) || double.IsNaN(value) || double.IsNaN(validation))
        {
            return new ConceptDrift(metric, rows.Count, null, validation, 0, settings.MetricTolerance, false, $"{metric} could not be computed on the {rows.Count} labelled rows.");
        }
        var worse = Training.Metrics.HigherIsBetter(metric) ? validation - value : value - validation;
        var degradation = worse / Math.Max(Math.Abs(validation), 1e-12);
        if (rows.Count < MinLabelledRows)
        {
            return new ConceptDrift(metric, rows.Count, value, validation, degradation, settings.MetricTolerance, false,
                $"Only {rows.Count} labelled rows (at least {MinLabelledRows} give a verdict): live {metric} {value:G4}, validation {validation:G4}.");
        }
        var drifted = degradation >= settings.MetricTolerance;
        return new ConceptDrift(metric, rows.Count, value, validation, degradation, settings.MetricTolerance, drifted,
            $"live {metric} {value:G4} on {rows.Count} labelled rows against {validation:G4} on validation: {(degradation >= 0 ? $"{degradation:P1} worse" : $"{-degradation:P1} better")}" +
            (drifted ? $", beyond the tolerance of {settings.MetricTolerance:P0}." : $", within the tolerance of {settings.MetricTolerance:P0}."));
    }

    /// <summary>The production version's live answers against its answers on the reference rows.</summary>
    private static FeatureDrift? ComparePredictions(ModelManifest production, DriftReference reference, DriftCurrent current, DriftSettings settings, List<string> notes)
    {
        if (reference.PredictionNote is { } note)
        {
            notes.Add(note);
            return null;
        }
        var rows = current.Rows;
        var answered = Enumerable.Range(0, rows.Count).Where(i => rows.Versions[i] == production.Version).ToList();
        if (answered.Count == 0)
        {
            notes.Add($"No logged answer of {production.Version} in the window; no prediction drift.");
            return null;
        }
        const string name = "prediction";
        return reference.Scores is { } scores
            ? DriftDetector.CompareNumeric(name, scores, [.. answered.Select(i => rows.Scores[i] is { } s ? (double)s : double.NaN)], scores.Length, settings)
            : DriftDetector.CompareCategorical(name, reference.Labels ?? [], answered.Select(i => rows.Labels[i]), reference.Rows.Count, settings);
    }
}
