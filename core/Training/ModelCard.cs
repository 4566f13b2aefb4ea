using System.Globalization;
using System.Text;
using Serverless.Core.Registry;

namespace Serverless.Core.Training;

/// <summary>Renders the model card (<c>card.md</c>) of a registered version: what the model is, how good, on what data, and its limits.</summary>
public static class ModelCard
{
    public static string Render(ModelManifest m)
    {
        var s = m.Schema;
        var card = new StringBuilder();
        card.AppendLine(CultureInfo.InvariantCulture, $"# Model card: {m.Model} {m.Version}");
        card.AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"- **Task**: {s.Task}, predicting {Code(s.Label)}{(s.Classes is { Count: > 0 } ? $" (classes: {string.Join(", ", s.Classes.Select(Code))})" : "")}");
        card.AppendLine(CultureInfo.InvariantCulture, $"- **Trainer**: {m.Candidate}");
        if (m.Candidate.Trainer == Blend.Name)
        {
            card.AppendLine(CultureInfo.InvariantCulture, $"  - the mean of the answers of: {string.Join("; ", Blend.Members())}");
        }
        if (m.RegisteredBy is { } by) card.AppendLine(CultureInfo.InvariantCulture, $"- **Registered**: {m.CreatedAt:u} by hand by {by}, from run `{m.RunId}` of orchestration `{m.OrchestrationId}`");
        else card.AppendLine(CultureInfo.InvariantCulture, $"- **Registered**: {m.CreatedAt:u} by orchestration `{m.OrchestrationId}` (run `{m.RunId}`)");
        card.AppendLine(CultureInfo.InvariantCulture, $"- **model.zip**: sha256 `{m.Sha256}`, {m.SizeBytes:N0} bytes");
        card.AppendLine();
        card.AppendLine("## Metrics");
        card.AppendLine();
        var names = m.TestMetrics.Keys.Union(m.ValidationMetrics.Keys).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var folds = m.Selection?.Folds?.Count ?? 0;
        var crossValidated = folds > 0 && m.Selection!.Set != SelectionSets.Validation;
        var selection = crossValidated ? $"{folds}-fold cross-validation (mean ± sd)" : folds > 0 ? $"validation (± sd of its {folds} parts)" : "validation";
        card.AppendLine(CultureInfo.InvariantCulture, $"| metric | {selection} | test | baseline (test) | champion (test) |");
        card.AppendLine("|---|---|---|---|---|");
        foreach (var name in names)
        {
            card.AppendLine(CultureInfo.InvariantCulture,
                $"| {(name == m.PrimaryMetric ? $"**{name}**" : name)} | {Cell(m.ValidationMetrics, name)}{Spread(m.Selection, name)} | {Cell(m.TestMetrics, name)}{Range(m.TestInterval, name)} | {Cell(m.BaselineTestMetrics, name)} | {Cell(m.ChampionTestMetrics, name)} |");
        }
        card.AppendLine();
        AppendTestUncertainty(card, m);
        card.AppendLine(CultureInfo.InvariantCulture, $"Primary metric: `{m.PrimaryMetric}`. Baseline: {(s.Task == Specs.TaskKind.Regression ? "the mean of the training labels" : "the majority class")}.{(m.ChampionVersion is null ? "" : $" Champion: {m.ChampionVersion}.")}");
        foreach (var note in m.GateNotes) card.AppendLine(CultureInfo.InvariantCulture, $"- {InlineText(note)}");
        card.AppendLine();
        AppendFeatureImportance(card, m);
        card.AppendLine("## Data");
        card.AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"- **Dataset version**: `{m.DatasetVersion}` (sha256 `{m.DatasetSha256}`)");
        var order = m.Splits.TimeColumn is { } time ? $"time-ordered by {Code(time)}: oldest train, newest test" : $"seed {m.Splits.Seed}";
        card.AppendLine(CultureInfo.InvariantCulture, $"- **Split** ({order}): {m.Splits.TrainRows:N0} train, {m.Splits.ValidationRows:N0} validation, {m.Splits.TestRows:N0} test rows");
        var chosen = crossValidated ? $"chosen by {folds}-fold cross-validation on the {m.Selection!.Rows:N0} train and validation rows" : "chosen on validation";
        if (m.Fit is { } fit) card.AppendLine(CultureInfo.InvariantCulture, $"- **Fit on**: {fit.On} ({fit.Rows:N0} rows); {chosen}{(fit.On == FitSets.TrainAndValidation ? ", then refit" : "")}; test metrics on the {m.TestMeasuredOn?.Rows ?? m.Splits.TestRows:N0} test rows");
        if (m.ChampionComparison is { } c) card.AppendLine(CultureInfo.InvariantCulture, $"- **Against champion {c.ChampionVersion}**: {c.Metric} {c.Challenger:G4} against {c.Champion:G4} (tolerance {c.Tolerance:P1}) on {c.MeasuredOn.Rows:N0} {c.MeasuredOn.Set}");
        card.AppendLine(CultureInfo.InvariantCulture, $"- **Features** ({s.Features.Count}): {string.Join(", ", s.Features.Select(f => $"{Code(f)} ({s.Column(f).Kind.ToString().ToLowerInvariant()})"))}");
        if (s.Excluded.Count > 0) card.AppendLine(CultureInfo.InvariantCulture, $"- **Excluded**: {string.Join(", ", s.Excluded.Select(Code))}");
        if (s.Sensitive.Count > 0) card.AppendLine(CultureInfo.InvariantCulture, $"- **Sensitive, never used or logged**: {string.Join(", ", s.Sensitive.Select(Code))}");
        if (s.Inferred.Count > 0) card.AppendLine(CultureInfo.InvariantCulture, $"- **Inferred**: {string.Join("; ", s.Inferred)}");
        if (m.Spec is { } spec) card.AppendLine(CultureInfo.InvariantCulture, $"- **Spec**: {(spec.Version == 0 ? "none (everything inferred)" : $"version {spec.Version}")} (sha256 `{spec.Sha256}`)");
        card.AppendLine();
        card.AppendLine("## Reproducibility");
        card.AppendLine();
        var r = m.Reproducibility;
        card.AppendLine(CultureInfo.InvariantCulture, $"Seed {r.Seed}; ML.NET {r.MlNetVersion}; code {r.CodeVersion}; {r.Runtime} on {r.OperatingSystem}.{(r.DeterminismNote is null ? "" : $" Deterministic: {(r.Deterministic == true ? "yes" : "no")}, {r.DeterminismNote}.")}{(r.SimplerWithin is { } within ? $" Chosen with `SimplerWithin` {within:G3}: a cheaper candidate wins within that many standard errors of the best{(within == 0 ? " (off: the best wins)" : "")}." : "")}");
        card.AppendLine();
        card.AppendLine("## Intended use and limitations");
        card.AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"Predicts {Code(s.Label)} for rows shaped like the training data. Inputs far outside the training profile (see the dataset's profile.json and the drift reports) get predictions of unknown quality. The metrics above hold for data drawn like the test split; they say nothing about groups the data under-represents.");
        return card.ToString();
    }

    /// <summary>Test splits of fewer rows than this get a warning on the card: their metrics move a lot from one draw of rows to another.</summary>
    public const int FewTestRows = 100;

    /// <summary>What the test interval means, and a warning when the test split is small.</summary>
    private static void AppendTestUncertainty(StringBuilder card, ModelManifest m)
    {
        var rows = m.TestMeasuredOn?.Rows ?? m.Splits.TestRows;
        if (m.TestInterval is { } i)
        {
            card.AppendLine(CultureInfo.InvariantCulture,
                $"In brackets, test `{i.Metric}`'s {100 * MetricInterval.Level:0}% interval: the central {100 * MetricInterval.Level:0}% of its values over {i.Resamples:N0} bootstrap resamples of the {i.Rows:N0} test rows, how far it could move on other rows drawn alike.");
            card.AppendLine();
        }
        if (rows < FewTestRows)
        {
            card.AppendLine(CultureInfo.InvariantCulture,
                $"**Few test rows**: the test metrics are measured on {rows:N0} rows, fewer than {FewTestRows}; on so few they are rough{(m.TestInterval is null ? "" : " (see the interval)")}. Upload more rows for a firmer measure.");
            card.AppendLine();
        }
    }

    /// <summary>The top features by permutation importance and how much shuffling each moves the primary metric on the test split.</summary>
    private static void AppendFeatureImportance(StringBuilder card, ModelManifest m)
    {
        if (m.FeatureImportance is not { } pfi) return;
        card.AppendLine("## Feature importance");
        card.AppendLine();
        if (pfi.NotComputed is { } why)
        {
            card.AppendLine(CultureInfo.InvariantCulture, $"Not computed: {why}.");
            card.AppendLine();
            return;
        }
        var worse = Metrics.HigherIsBetter(pfi.Metric) ? "drops" : "rises";
        var how = pfi.ColumnsShuffled
            ? "each feature column shuffled in the test rows and the whole model scored"
            : "ML.NET PFI, each model input, one a feature column, shuffled";
        card.AppendLine(CultureInfo.InvariantCulture,
            $"Permutation feature importance ({how}) on {pfi.Rows:N0} test rows, {pfi.Permutations} permutations: how much `{pfi.Metric}` changes when a feature's values are shuffled. The more it {worse}, the more the model relies on the feature.");
        card.AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"| rank | feature | change of {pfi.Metric} | ± std. error |");
        card.AppendLine("|---|---|---|---|");
        foreach (var (effect, rank) in pfi.Features.Take(TopFeatures).Select((e, i) => (e, i + 1)))
        {
            card.AppendLine(CultureInfo.InvariantCulture,
                $"| {rank} | {TableText(effect.Feature)} | {ModelExplainer.Format(effect.Change)} | {effect.StandardError.ToString("0.####", CultureInfo.InvariantCulture)} |");
        }
        if (pfi.Features.Count > TopFeatures) card.AppendLine(CultureInfo.InvariantCulture, $"\n{pfi.Features.Count - TopFeatures} more feature(s) in the manifest.");
        card.AppendLine();
    }

    /// <summary>
    /// A column name inside a table cell, as code. A '|' would end the cell, and renderers disagree on "\|" inside code
    /// (GitHub reads it as the character, Markdig keeps the backslash): such a name is written as text instead, every
    /// punctuation character escaped, which both read alike.
    /// </summary>
    private static string TableText(string text) =>
        !text.Contains('|', StringComparison.Ordinal) ? Code(text)
            : string.Concat(text.Select(c => char.IsAsciiLetterOrDigit(c) || c == ' ' || c > 127 ? c.ToString() : "\\" + c));

    /// <summary>
    /// A name from the data as inline code. A name holding backticks is fenced by one more backtick than its longest run
    /// of them, with a space inside each fence (CommonMark strips one), so the name shows whole and ends no span early.
    /// </summary>
    private static string Code(string text)
    {
        if (!text.Contains('`', StringComparison.Ordinal)) return $"`{text}`";
        var longest = System.Text.RegularExpressions.Regex.Matches(text, "`+").Max(m => m.Length);
        var fence = new string('`', longest + 1);
        return $"{fence} {text} {fence}";
    }

    /// <summary>
    /// Text that may hold what a person wrote (a reason), as one line of markdown that reads as the text itself: its line
    /// breaks become spaces (a heading or a table needs a line of its own), and every character markdown gives a meaning
    /// inline (emphasis, code, links, HTML, entities) is escaped, as is a start that would open a list.
    /// </summary>
    public static string InlineText(string text)
    {
        var line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        var escaped = new StringBuilder(line.Length + 8);
        foreach (var c in line)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '#' or '|' or '&' or '!' or '~') escaped.Append('\\');
            escaped.Append(c);
        }
        // "- x", "+ x" or "1. x" after the item's own "- " would open a list inside it.
        var start = 0;
        while (start < escaped.Length && char.IsAsciiDigit(escaped[start])) start++;
        if (start < escaped.Length && (start == 0 ? escaped[0] is '-' or '+' or '=' : escaped[start] is '.' or ')')) escaped.Insert(start, '\\');
        return escaped.ToString();
    }

    /// <summary>Features listed on the card; the manifest keeps them all.</summary>
    public const int TopFeatures = 10;

    private const string HtmlStyle = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}code{background:#f4f4f4}";

    /// <summary>
    /// The content security policy the HTML card is served with: its own inline style (by hash) and nothing else, no
    /// script, no request, no frame. Text people write (a reason) ends up on the card, so the page trusts none of it.
    /// </summary>
    public static readonly string HtmlPolicy =
        $"default-src 'none'; style-src 'sha256-{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(HtmlStyle)))}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// The card as a standalone HTML page (Markdig renders the markdown, tables included). Raw HTML is shown as text, and
    /// so are links and autolinks: the card has none of its own, so any are in text from people or data (a reason, a
    /// column name), and a <c>javascript:</c> link there must not become one.
    /// </summary>
    public static string Html(string markdown, string title)
    {
        var builder = Markdig.MarkdownExtensions.DisableHtml(Markdig.MarkdownExtensions.UsePipeTables(new Markdig.MarkdownPipelineBuilder()));
        builder.InlineParsers.RemoveAll(p => p is Markdig.Parsers.Inlines.LinkInlineParser or Markdig.Parsers.Inlines.AutolinkInlineParser);
        var body = Markdig.Markdown.ToHtml(markdown, builder.Build());
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Model card: {{System.Net.WebUtility.HtmlEncode(title)}}</title>
            <style>{{HtmlStyle}}</style>
            </head><body>
            {{body}}
            </body></html>
            """;
    }

    /// <summary>The spread of a metric across the folds or validation parts, after its value; nothing for a metric measured once.</summary>
    private static string Spread(SelectionMeasure? selection, string name) =>
        selection?.StandardDeviation is { } sd && sd.TryGetValue(name, out var v) ? $" ± {v.ToString("G2", CultureInfo.InvariantCulture)}" : "";

    /// <summary>The test interval after the metric it belongs to; nothing for the others.</summary>
    private static string Range(MetricInterval? interval, string name) =>
        interval is { } i && i.Metric == name ? " " + i.Bracketed() : "";

    private static string Cell(IReadOnlyDictionary<string, double>? metrics, string name) =>
        metrics is not null && metrics.TryGetValue(name, out var v) ? v.ToString("G4", CultureInfo.InvariantCulture) : "–";
}
