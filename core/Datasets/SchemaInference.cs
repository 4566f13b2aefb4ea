using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// Decides a dataset version's schema from the first pass: the label and the task, each column's kind and role, and the
/// classes, checked against the spec and the previous version; a file that cannot make a dataset is a <see cref="Rejection"/>.
/// </summary>
internal sealed class SchemaInference(IngestionOptions options)
{
    /// <summary>Refuses a header with a name given twice (in any case) or a column without a name.</summary>
    public static void CheckHeader(string[] header)
    {
        var empty = header.Select((h, i) => (h, i)).Where(x => x.h.Length == 0).Select(x => x.i + 1).ToList();
        if (empty.Count > 0) throw new Rejection(ReasonCodes.EmptyColumnName, $"Column(s) {string.Join(", ", empty)} have no name in the header row. Give each column a name.");
        var duplicates = header.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).ToList();
        if (duplicates.Count > 0)
        {
            // Names that differ only in case are the same name to the model's columns, so both spellings are shown.
            var names = duplicates.Select(g => g.Distinct(StringComparer.Ordinal).Count() == 1
                ? CellValues.Escape(g.Key)
                : $"{string.Join(" and ", g.Distinct(StringComparer.Ordinal).Select(n => $"'{CellValues.Escape(n)}'"))} (names that differ only in case count as one)");
            throw new Rejection(ReasonCodes.DuplicateColumns, $"Column names appear more than once: {string.Join(", ", names)}. Rename them so each column has its own name.");
        }
    }

    /// <summary>
    /// Whether the header's last name is empty, as it is when every line ends with the delimiter (some exporters write
    /// one after every field): that column is dropped when it is empty in every row, rather than refused for its name.
    /// </summary>
    public static bool EndsWithDelimiter(string[] header) => header.Length > 1 && header[^1].Length == 0;

    /// <summary>Why a nameless last column (<see cref="EndsWithDelimiter"/>) is not dropped: it holds values.</summary>
    public static string NamelessLastColumnHoldsValues(string[] header, long withValues, long rows) =>
        $"Column {header.Length} has no name in the header row: the header line ends with the delimiter (after '{CellValues.Escape(header[^2])}'). " +
        $"When every line ends with the delimiter, the empty column it makes is dropped; this one holds values in {withValues} of {rows} rows. " +
        "Give it a name in the header, or remove the delimiter from the end of every line.";

    /// <summary>The label's column: the spec's label, else the column named label (any case), else the last column.</summary>
    public static int LabelIndex(string[] header, ModelSpec spec)
    {
        if (spec.Label is { } label)
        {
            var index = Array.IndexOf(header, label);
            if (index < 0) throw new Rejection(ReasonCodes.LabelMissing, NoSuchColumn("label", label, header));
            return index;
        }
        var named = Array.FindIndex(header, h => h.Equals("label", StringComparison.OrdinalIgnoreCase));
        return named >= 0 ? named : header.Length - 1;
    }

    /// <summary>Why a column the spec names in <paramref name="role"/> cannot be used: the file's columns, and the nearest name to the one given.</summary>
    private static string NoSuchColumn(string role, string name, string[] header)
    {
        var near = NameSuggestions.Closest(name, header) is { } closest ? $" Did you mean '{CellValues.Escape(closest)}'? Column names are case-sensitive." : "";
        return $"The spec names the {role} '{CellValues.Escape(name)}', but the file has no such column (it has {string.Join(", ", header.Take(20).Select(CellValues.Escape))}).{near}";
    }

    /// <summary>
    /// A note for a column of numbers that is read as words because some of its values are not numbers: numbers written
    /// for people (decimal commas, thousands separators, percent signs, currency symbols: <see cref="CellValues.NumberWrittenAs"/>),
    /// or a few stray cells. Such a column reaches the model as categories, one per value, which is rarely what was meant,
    /// so it is never silent. Null when fewer than half of the values are numbers, or numbers so written. The values are
    /// read with the file's <paramref name="mark"/>.
    /// </summary>
    private static string? NumbersReadAsWords(ColumnStatistics stat, char mark)
    {
        if (stat.FirstNonNumber is not { } example || stat.Present == 0) return null;
        var name = CellValues.Escape(stat.Name);
        // Exact while the distinct values are all counted; else the numbers seen before the first value that is not one.
        var numbers = stat.DistinctOverflow ? stat.Numbers : stat.Distinct.Where(d => IsNumberKey(d.Key, mark)).Sum(d => d.Value);
        if (WrittenForPeople(stat, example, numbers, mark) is { } written)
        {
            return $"'{name}': values such as '{CellValues.Escape(written.Value)}' look like {CellValues.NumberFormsInWords(written.Forms)}, so the column is read as categories; " +
                   $"{CellValues.NumberFormsAdvice(written.Forms, mark)} to have it read as numbers";
        }
        if (numbers * 2 < stat.Present) return null;
        var others = stat.DistinctOverflow ? "" : $" ({stat.Present - numbers:N0} of {stat.Present:N0} values)";
        return $"'{name}' holds numbers, but also values that are not, such as '{CellValues.Escape(example)}'{others}, so it is read as categories; " +
               $"fix those cells, or declare it \"numeric\" in the spec's \"columns\" to read them as missing";
    }

    /// <summary>
    /// Whether a distinct value of a column is a number: the numbers counted before the column's first value that is not
    /// one are keyed by their shortest text, with a point ("156"; <see cref="CellValues.NumberKey"/>), those after it as
    /// the file writes them (with a decimal comma, "156,5", in a file read with one).
    /// </summary>
    private static bool IsNumberKey(string key, char mark) =>
        CellValues.TryNumber(key, out _) || (mark != DecimalMark.Point && CellValues.TryNumber(key.AsSpan(), mark, out _));

    /// <summary>
    /// A note for a column of a file read with a decimal comma (<see cref="DecimalMark"/>) that is read as words because a
    /// value is written with a decimal point ("3.5") or with thousands separators ("1.234,5"), neither of which is read
    /// then. Null for a file read with a point, and for any other value.
    /// </summary>
    private static string? NumbersAgainstTheMark(ColumnStatistics stat, char mark)
    {
        if (mark == DecimalMark.Point || stat.FirstNonNumber is not { } example) return null;
        var forms = CellValues.NumberWrittenAs(example, mark);
        if ((forms & (NumberForms.DecimalPoint | NumberForms.ThousandsSeparators)) == 0) return null;
        return $"'{CellValues.Escape(stat.Name)}': values such as '{CellValues.Escape(example)}' look like {CellValues.NumberFormsInWords(forms)}, so the column is read as categories; " +
               $"{CellValues.NumberFormsAdvice(forms, mark)} to have it read as numbers";
    }

    /// <summary>
    /// A note for a column of dates written day first (13/03/2021, 13.03.2021), which are not read as dates: the column
    /// reaches the model as categories, one per day, and a date that was meant is never silently lost. Null unless at least
    /// half of the column's values are dates either way (with its distinct values not all counted, the example decides).
    /// </summary>
    private static string? DatesReadAsWords(ColumnStatistics stat)
    {
        if (stat.FirstNonDate is not { } example || !CellValues.LooksLikeDayFirstDate(example)) return null;
        if (!stat.DistinctOverflow
            && stat.Distinct.Where(d => CellValues.TryDate(d.Key, out _) || CellValues.LooksLikeDayFirstDate(d.Key)).Sum(d => d.Value) * 2 < stat.Present) return null;
        return $"'{CellValues.Escape(stat.Name)}': values such as '{CellValues.Escape(example)}' look like dates written day first, which are not read as dates " +
               "(a date is read as 2021-03-13, or month first with slashes, 03/13/2021), so the column is read as categories; write the dates as 2021-03-13 to have it read as dates";
    }

    /// <summary>Fewer rows than this and a column of values all different is not called an identifier: a small file's measurements differ too.</summary>
    private const int IdentifierRows = 50;

    /// <summary>
    /// A note for a feature that cannot help a model and costs it: one value in every row, or, among words without spaces,
    /// a value of its own in every row (an id, a uuid, an e-mail), which a model only memorizes. It stays
    /// a feature (the spec decides), and is never silent. Null otherwise, and when the values were too many to count.
    /// </summary>
    private static string? UninformativeFeature(ColumnStatistics stat, ColumnKind kind, char mark)
    {
        if (stat.DistinctOverflow || stat.Present == 0) return null;
        var name = CellValues.Escape(stat.Name);
        var advice = "list it under \"exclude\" in the spec unless it is meant";
        if (stat.Distinct.Count == 1)
        {
            return $"'{name}' holds one value, '{CellValues.Escape(stat.Distinct.Keys.First())}', in every row that has one: it tells a model nothing; {advice}";
        }
        // Words without spaces only (a code, a uuid, an e-mail; read as categories, or as text for being all different):
        // whole numbers all different are as often a measurement (square feet) as an id, free text differs row by row by
        // nature, and a column read as words for the way its numbers or dates are written has its own note.
        if (kind is ColumnKind.Categorical or ColumnKind.Text && stat.WithSpaces == 0 && stat.Present >= IdentifierRows && stat.Distinct.Count == stat.Present
            && NumbersReadAsWords(stat, mark) is null && DatesReadAsWords(stat) is null)
        {
            return $"'{name}' holds a value of its own in every row ({stat.Present:N0} values, all different), as an identifier does: a model can only memorize it; {advice}";
        }
        return null;
    }

    /// <summary>
    /// Why a column the spec declares numeric cannot be read as numbers, and what to do: where every example is a number
    /// written for people ($32.99, 28.4%, 86,087.05), to write the numbers alone, since declaring the column categorical
    /// would make each amount a category of its own; else to declare it categorical or fix the data.
    /// </summary>
    private static string NotNumbersInWords(ColumnStatistics stat, char mark)
    {
        var examples = stat.NotOfDeclaredKindExamples;
        var forms = examples.Select(e => CellValues.NumberWrittenAs(e, mark)).ToList();
        var all = forms.Aggregate(NumberForms.None, (a, b) => a | b);
        var advice = forms.All(f => f != NumberForms.None)
            ? $"They look like {CellValues.NumberFormsInWords(all)}: {CellValues.NumberFormsAdvice(all, mark)}, and the column is read as numbers."
            : "Declare it \"categorical\" in the spec's \"columns\", or fix the data.";
        return $"Column '{CellValues.Escape(stat.Name)}' is numeric in the spec, but {stat.NotOfDeclaredKind} of its {stat.Count} rows hold values that are not numbers, " +
               $"such as {Examples(examples)}: read as missing, they would leave it missing in {stat.Missing + stat.NotOfDeclaredKind} of {stat.Count} rows. {advice}";
    }

    /// <summary>
    /// The example of a column's numbers written for people, and how they are written: the first such value that reads one
    /// way only ("7,4" rather than "1,234", which may be either), else the first. None when the column is not mostly numbers
    /// so written (a column of words with one "$5" in it is words); with its distinct values not all counted, the example alone decides.
    /// </summary>
    private static (string Value, NumberForms Forms)? WrittenForPeople(ColumnStatistics stat, string example, long numbers, char mark)
    {
        if (stat.DistinctOverflow) return CellValues.NumberWrittenAs(example, mark) is var only && only != NumberForms.None ? (example, only) : null;
        const NumberForms either = NumberForms.DecimalComma | NumberForms.ThousandsSeparators;
        var written = stat.Distinct.Where(d => !IsNumberKey(d.Key, mark))
            .Select(d => (Value: d.Key, Forms: CellValues.NumberWrittenAs(d.Key, mark), Count: d.Value)).Where(w => w.Forms != NumberForms.None).ToList();
        if (written.Count == 0 || (numbers + written.Sum(w => w.Count)) * 2 < stat.Present) return null;
        var (value, forms, _) = written.FirstOrDefault(w => (w.Forms & either) != either, written[0]);
        return (value, forms);
    }

    /// <summary>Values as a message quotes them: 'VTS', 'CMT'.</summary>
    private static string Examples(IEnumerable<string> values) => string.Join(", ", values.Select(v => $"'{CellValues.Escape(v)}'"));

    /// <summary>The columns grouped by kind, e.g. <c>numeric (a, b), categorical (c)</c> (at most eight names a kind), or null for none.</summary>
    private static string? KindsInWords(IEnumerable<ColumnSchema> columns)
    {
        const int shown = 8;
        var groups = columns.GroupBy(c => c.Kind).OrderBy(g => g.Key).Select(g =>
        {
            var names = g.Select(c => CellValues.Escape(c.Name)).ToList();
            return $"{g.Key.ToString().ToLowerInvariant()} ({string.Join(", ", names.Take(shown))}{(names.Count > shown ? $" and {names.Count - shown} more" : "")})";
        }).ToList();
        return groups.Count == 0 ? null : string.Join(", ", groups);
    }

    /// <summary>How <see cref="LabelIndex"/> chose the label the spec does not name, in words.</summary>
    private static string LabelRule(string labelName) =>
        labelName.Equals("label", StringComparison.OrdinalIgnoreCase) ? "the column named label" : "the last column";

    /// <summary>Column kinds, label, task, classes and feature roles, checked against the spec and the previous version.</summary>
    public DatasetSchema Decide(FirstPassResult first, ModelSpec spec, DatasetManifest? prior)
    {
        var header = first.Header;
        var inferred = new List<string>();
        var labelName = header[first.LabelIndex];
        if (spec.Label is null) inferred.Add($"label: '{labelName}' ({LabelRule(labelName)})");
        if (first.NamesWithoutHeader is { } names) inferred.Add($"header: none, the first line holds data{(spec.HasHeader is false ? " (the spec's hasHeader is false)" : "")}; the columns are named {names}");
        if (first.DroppedEmptyLastColumn) inferred.Add($"header: every line ends with the delimiter; the nameless column after '{CellValues.Escape(header[^1])}' is empty in every row and is dropped");
        if (first.MarkedHeader is { } marked) inferred.Add($"header: '{CellValues.Escape(marked)}' is read as '{header[0]}' (the '#' marks the header line in ML.NET's text format)");
        CheckLabelHasValues(first, spec, options.MaxClasses);
        if (spec.TimeColumn is { } time && !header.Contains(time)) throw new Rejection(ReasonCodes.TimeColumnMissing, NoSuchColumn("time column", time, header));
        // Before any check of the columns' values: those see the accepted rows only, and would blame a column for rows
        // that were rejected (every row ragged leaves a column with no value).
        CheckInvalidRowShare(first, options.MaxInvalidRowShare);

        var columns = new List<ColumnSchema>();
        foreach (var stat in first.Stats)
        {
            if (spec.Columns?.TryGetValue(stat.Name, out var kind) == true)
            {
                columns.Add(new ColumnSchema(stat.Name, kind, Inferred: false));
                if (kind == ColumnKind.Numeric && stat.FirstNonNumber is { } text && first.Stats[first.LabelIndex] != stat)
                {
                    // How many, and for numbers written for people (a decimal comma, a percent sign) what to do: read as missing, every one of them is lost.
                    var advice = CellValues.NumberWrittenAs(text, first.Mark) is var forms && forms != NumberForms.None
                        ? $"; they look like {CellValues.NumberFormsInWords(forms)}: {CellValues.NumberFormsAdvice(forms, first.Mark)} to keep them" : "";
                    inferred.Add($"'{CellValues.Escape(stat.Name)}': values that are not numbers, such as '{CellValues.Escape(text)}', are kept as missing (the spec declares the column numeric): " +
                                 $"{stat.NotOfDeclaredKind:N0} of {stat.Count:N0} rows{advice}");
                }
            }
            else
            {
                var inferredKind = stat.InferKind();
                columns.Add(new ColumnSchema(stat.Name, inferredKind));
                if (inferredKind is ColumnKind.Categorical or ColumnKind.Text && first.Stats[first.LabelIndex] != stat
                    && (NumbersAgainstTheMark(stat, first.Mark) ?? NumbersReadAsWords(stat, first.Mark) ?? DatesReadAsWords(stat)) is { } note) inferred.Add(note);
            }
        }
        if (KindsInWords(columns.Where(c => c.Inferred)) is { } kinds) inferred.Add($"column kinds: {kinds}");

        var label = first.Stats[first.LabelIndex];
        var labelKind = columns[first.LabelIndex].Kind;
        // Appended rows join the previous version's: its task and classes hold for the whole, and a batch may lack some classes.
        var appendTo = DataPolicies.AppendTarget(spec, prior);
        TaskKind task;
        if (spec.Task is { } t) task = t;
        else if (appendTo is not null)
        {
            task = appendTo.Schema.Task;
            inferred.Add($"task: {task.ToString().ToLowerInvariant()} (that of dataset version {appendTo.Version}, which these rows are appended to)");
        }
        else
        {
            var distinct = label.Distinct.Count;
            task = label.InferLabelTask(labelKind);
            inferred.Add($"task: {task.ToString().ToLowerInvariant()} ({distinct}{(label.DistinctOverflow ? "+" : "")} distinct label values{(labelKind == ColumnKind.Numeric ? ", numeric" : "")})");
        }

        // A boolean label's values are read as the data file holds them (true/false, CellValues.Canonical), so that its
        // classes are the values training reads: yes/no, Y/N or T/F are written true/false.
        var labelValues = labelKind == ColumnKind.Boolean
            ? label.Distinct.Keys.Select(k => CellValues.Canonical(ColumnKind.Boolean, k)).OfType<string>().Distinct(StringComparer.Ordinal).ToList()
            : label.Distinct.Keys.ToList();
        if (appendTo?.Schema.Classes is { } appendedClasses) labelValues = [.. labelValues.Union(appendedClasses, StringComparer.Ordinal)];
        var classesAsWritten = labelKind == ColumnKind.Boolean ? ClassesAsWritten(label, appendTo?.Schema) : null;
        if (label.Present > 0 && labelValues.Count == 1 && !label.DistinctOverflow && appendTo is null)
        {
            throw new Rejection(ReasonCodes.LabelConstant, $"The label '{CellValues.Escape(labelName)}' has one value only ({CellValues.Escape(label.Distinct.Keys.First())}); a model cannot learn from it.{InferredLabelAdvice(first, spec, options.MaxClasses)}");
        }
        if (label.NonFinite > 0) throw new Rejection(ReasonCodes.NonFiniteValues, $"The label '{CellValues.Escape(labelName)}' holds {label.NonFinite} value(s) that are infinite or too large: a model takes numbers of {CellValues.ModelFiniteLimit}.");
        IReadOnlyList<string>? classes = null;
        if (task == TaskKind.Regression)
        {
            if (label.Numbers != label.Present)
            {
                // How many are not numbers is not known (numbers stop being counted apart at the first that is not one); an example is.
                var example = label.FirstNonNumber;
                // The first value is the column's name: a file read without a header (as the spec said) whose first line is one, or a header repeated further down.
                var repeatedHeader = example == labelName && first.NamesWithoutHeader is not null
                    ? " That is the column's name: the file's first line looks like a header, and it was read as data because " +
                      (spec.HasHeader is false ? "the spec's hasHeader is false; set it to true (and leave columnNames out), or remove that line." : "the columns were named without one; remove that line.")
                    : example == labelName ? " That is the column's name: is the header line repeated part way through the file? Remove the repeated header lines."
                    : example is not null && CellValues.NumberWrittenAs(example, first.Mark) is var forms && forms != NumberForms.None
                        ? $" Such values look like {CellValues.NumberFormsInWords(forms)}: {CellValues.NumberFormsAdvice(forms, first.Mark)}." : "";
                throw new Rejection(ReasonCodes.LabelNotNumeric, $"Regression needs a numeric label, but '{CellValues.Escape(labelName)}' holds values that are not numbers" +
                                                         $"{(example is null ? "" : $", such as '{CellValues.Escape(example)}'")}.{repeatedHeader}{InferredLabelAdvice(first, spec, options.MaxClasses)}");
            }
        }
        else
        {
            if (label.DistinctOverflow || label.Distinct.Count > options.MaxClasses)
            {
                // Advice to regress only where it can work: every value a number.
                var why = label.Numbers == label.Present
                    ? $"Classification with more than {options.MaxClasses} classes in '{CellValues.Escape(labelName)}' is not supported; set \"task\": \"regression\" if the label is a quantity."
                    : $"The label '{CellValues.Escape(labelName)}' has more than {options.MaxClasses} distinct values, not all numbers: too many to be classes (a classifier takes at most {options.MaxClasses})." +
                      // Numbers written for people (decimal commas, say) are not numbers, so the advice to regress is not given above: say how to write them.
                      (label.FirstNonNumber is { } written && CellValues.NumberWrittenAs(written, first.Mark) is var forms && forms != NumberForms.None
                          ? $" Values such as '{CellValues.Escape(written)}' look like {CellValues.NumberFormsInWords(forms)}: {CellValues.NumberFormsAdvice(forms, first.Mark)}, and set \"task\": \"regression\" if the label is a quantity."
                          : "");
                throw new Rejection(ReasonCodes.LabelTooManyClasses, why + InferredLabelAdvice(first, spec, options.MaxClasses));
            }
            if (task == TaskKind.Binary && labelValues.Count != 2)
            {
                throw new Rejection(ReasonCodes.LabelNotBinary, $"A binary task needs exactly two label values; '{CellValues.Escape(labelName)}' has {labelValues.Count}.{InferredLabelAdvice(first, spec, options.MaxClasses)}");
            }
            classes = ClassOrder.Sort(labelValues, task);
        }

        var sensitive = (spec.Sensitive ?? []).Where(header.Contains).ToList();
        var excluded = (spec.Exclude ?? []).Where(header.Contains).ToList();
        var missing = (spec.Sensitive ?? []).Concat(spec.Exclude ?? []).Where(c => !header.Contains(c)).ToList();
        if (missing.Count > 0) inferred.Add($"the spec names columns the file does not have: {string.Join(", ", missing.Select(CellValues.Escape))}");
        // A range checks numbers: on a column the file does not have, or one read as something else, it checks nothing,
        // and that is said (a spec set before any data could not be checked against the columns).
        foreach (var name in (spec.Ranges ?? []).Keys.Order(StringComparer.Ordinal))
        {
            var kind = columns.FirstOrDefault(c => c.Name == name)?.Kind;
            if (kind == ColumnKind.Numeric) continue;
            inferred.Add(kind is null
                ? $"the spec's range for '{CellValues.Escape(name)}' checks nothing: the file has no such column"
                : $"the spec's range for '{CellValues.Escape(name)}' checks nothing: the column is read as {kind.Value.ToString().ToLowerInvariant()}, and a range applies to numbers");
        }
        var features = new List<string>();
        var notNumbers = new List<string>();
        for (var i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            var stat = first.Stats[i];
            if (i == first.LabelIndex || sensitive.Contains(c.Name) || excluded.Contains(c.Name)) continue;
            if (stat.Present == 0) throw new Rejection(ReasonCodes.ColumnAllMissing, $"Column '{CellValues.Escape(c.Name)}' has no value in any row; remove it, or list it under \"exclude\" in the spec.");
            if (stat.NonFinite > 0 && c.Kind == ColumnKind.Numeric)
            {
                throw new Rejection(ReasonCodes.NonFiniteValues, $"Column '{CellValues.Escape(c.Name)}' holds {stat.NonFinite} value(s) that are infinite or too large (a model takes numbers of {CellValues.ModelFiniteLimit}); replace them with numbers in range or leave the cells empty.");
            }
            if (stat.Missing > options.MaxMissingShare * stat.Count)
            {
                throw new Rejection(ReasonCodes.TooManyMissing, $"Column '{CellValues.Escape(c.Name)}' is missing in {stat.Missing} of {stat.Count} rows (over {options.MaxMissingShare:P0}); exclude it in the spec or fill it.");
            }
            if (c.Kind == ColumnKind.Numeric && stat.NotOfDeclaredKind > 0
                && (stat.NotOfDeclaredKind == stat.Present || stat.Missing + stat.NotOfDeclaredKind > options.MaxMissingShare * stat.Count))
            {
                // A few such values are read as missing (a note says so); so many that the column would be left (almost)
                // empty mean the column is not numbers. Every such column is named at once, so that one upload fixes them all.
                notNumbers.Add(NotNumbersInWords(stat, first.Mark));
                continue;
            }
            if (c.Kind == ColumnKind.Boolean && stat.NotOfDeclaredKind > 0)
            {
                // Training would fail on the first such value.
                throw new Rejection(ReasonCodes.NotBooleans, $"Column '{CellValues.Escape(c.Name)}' is boolean in the spec, but holds {stat.NotOfDeclaredKind} value(s) that are not booleans, " +
                                                    $"such as {Examples(stat.NotOfDeclaredKindExamples)}; write true/false, yes/no or 1/0, or give the column another kind (numeric or categorical).");
            }
            if (c.Kind == ColumnKind.Boolean && stat.Missing > 0)
            {
                inferred.Add($"'{CellValues.Escape(c.Name)}': {stat.Missing} missing value(s) of this boolean column are read as false, in training (ML.NET's " +
                             "loader reads an empty boolean so) and at predict; to keep missing apart from false, declare the column categorical under \"columns\"");
            }
            if (c.Kind == ColumnKind.DateTime)
            {
                // Only a column the spec declares a date can hold other values (an inferred one holds dates only); each would reach
                // the model as a missing date, silently.
                if (stat.Dates < stat.Present)
                {
                    var example = stat.Distinct.Keys.FirstOrDefault(k => !CellValues.IsMissing(k) && !CellValues.TryDate(k, out _));
                    throw new Rejection(ReasonCodes.NotDates, $"Column '{CellValues.Escape(c.Name)}' is dateTime in the spec, but holds values that are not dates{(example is null ? "" : $", such as '{CellValues.Escape(example)}'")}; write dates as 2024-01-31 or 2024-01-31T14:05:00 (or 01/31/2024), or give the column another kind.");
                }
                inferred.Add($"'{c.Name}' is a date/time column: its instant, year, month, day, weekday, hour and minute are features");
                // Slashed dates whose days are all 12 or less read either way: say which way they were read.
                if (stat.FirstSlashedDate is { } slashed && !stat.SlashedDatesReadOneWay && CellValues.TryDate(slashed, out var read))
                {
                    inferred.Add($"'{CellValues.Escape(c.Name)}': dates written with slashes are read month first ('{CellValues.Escape(slashed)}' is {read:yyyy-MM-dd}); " +
                                 "if the file writes the day first, write the dates as yyyy-MM-dd (2021-03-13)");
                }
            }
            if (UninformativeFeature(stat, c.Kind, first.Mark) is { } uninformative) inferred.Add(uninformative);
            features.Add(c.Name);
        }
        if (notNumbers.Count > 0) throw new Rejection(ReasonCodes.NotNumbers, string.Join(" ", notNumbers));
        if (features.Count == 0) throw new Rejection(ReasonCodes.NoFeatures, "No column is left to learn from once the label, excluded and sensitive columns are set aside.");

        if (prior is not null)
        {
            // Under replace, what the spec says on purpose holds over the previous version: its label, the kinds its
            // "columns" give, and columns it excludes that the file no longer has. Appended rows must fit the rows before.
            var replace = appendTo is null;
            var now = columns.ToDictionary(c => c.Name);
            var gone = prior.Schema.Columns.Where(c => !now.ContainsKey(c.Name) && !(replace && (spec.Exclude ?? []).Contains(c.Name)))
                .Select(c => c.Name).ToList();
            if (gone.Count > 0)
            {
                var added = columns.Where(c => prior.Schema.Columns.All(p => p.Name != c.Name)).Select(c => c.Name).ToList();
                throw new Rejection(ReasonCodes.SchemaMismatch, $"Columns of the previous dataset version {prior.Version} are missing: {string.Join(", ", gone.Select(CellValues.Escape))}{(added.Count > 0 ? $" (new columns: {string.Join(", ", added.Select(CellValues.Escape))}; renamed?)" : "")}.");
            }
            var changed = prior.Schema.Columns.Where(p => now.TryGetValue(p.Name, out var c) && c.Kind != p.Kind
                                                          && !(p.Kind == ColumnKind.Categorical && c.Kind == ColumnKind.Numeric) && !(replace && !c.Inferred))
                .Select(p => $"'{p.Name}' was {p.Kind.ToString().ToLowerInvariant()}, is now {now[p.Name].Kind.ToString().ToLowerInvariant()}").ToList();
            if (changed.Count > 0)
            {
                var remedy = replace ? "Set the kinds in the spec's \"columns\" if the change is intended."
                    : "Appended rows keep the kinds of the rows before them (policy append); set \"policy\": \"replace\" in the spec to upload the data whole with new kinds.";
                throw new Rejection(ReasonCodes.SchemaMismatch, $"Column types changed since dataset version {prior.Version}: {string.Join("; ", changed)}. {remedy}");
            }
            if (prior.Schema.Label != labelName && !(replace && spec.Label == labelName))
            {
                var remedy = replace ? "Name the label in the spec's \"label\" if the change is intended."
                    : "Appended rows keep the label of the rows before them (policy append); set \"policy\": \"replace\" in the spec to upload the data whole with another label.";
                throw new Rejection(ReasonCodes.SchemaMismatch, $"The label was '{prior.Schema.Label}' in dataset version {prior.Version} and is '{labelName}' now. {remedy}");
            }
        }

        return new DatasetSchema
        {
            Columns = columns,
            Label = labelName,
            Task = task,
            Features = features,
            Excluded = excluded,
            Sensitive = sensitive,
            Classes = classes,
            ClassesAsWritten = task == TaskKind.Regression ? null : classesAsWritten,
            TimeColumn = spec.TimeColumn,
            Inferred = inferred,
        };
    }

    /// <summary>
    /// A boolean label's classes as the file writes them where that is not their name: each class's most frequent
    /// spelling (<c>yes</c> for <c>true</c>), else the spelling of the version appended to. Null when there is none.
    /// </summary>
    private static Dictionary<string, string>? ClassesAsWritten(ColumnStatistics label, DatasetSchema? appendTo)
    {
        var written = new Dictionary<string, string>(appendTo?.ClassesAsWritten ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var spellings in label.Distinct.GroupBy(k => CellValues.Canonical(ColumnKind.Boolean, k.Key)))
        {
            if (spellings.Key is null) continue;
            var most = spellings.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).First().Key;
            if (most != spellings.Key) written[spellings.Key] = most;
            else written.Remove(spellings.Key);
        }
        return written.Count == 0 ? null : written;
    }

    /// <summary>
    /// Refuses a file with more rows rejected than <paramref name="maxShare"/> allows, counting them per reason. A first
    /// line read as a header that starts with '#' is most likely a comment line whose fields the rows do not match.
    /// </summary>
    private static void CheckInvalidRowShare(FirstPassResult first, double maxShare)
    {
        if (first.RejectedRows <= maxShare * first.DataRows) return;
        var counts = string.Join(", ", first.Lines.RejectedBy.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}: {r.Value}"));
        var comment = first.MarkedHeader is { } marked ? " " + MarkedHeaderAdvice(marked) : "";
        throw new Rejection(ReasonCodes.TooManyInvalidRows, $"{first.RejectedRows} of {first.DataRows} rows are unusable (over the {maxShare:P0} allowed; {counts}); " +
                                                     $"see the problems listed in the report.{comment}", first.Problems);
    }

    /// <summary>What to do when the first line starts with '#' and was read as the header (ML.NET's text format marks its header so), but may be a comment.</summary>
    public static string MarkedHeaderAdvice(string markedHeader) =>
        $"The first line starts with '#' ('{CellValues.Escape(markedHeader)}') and was read as the header, as ML.NET's text format marks it; " +
        "if that line is a comment, set \"comment\": \"#\" in the spec and upload the file again.";

    /// <summary>
    /// A label column empty in every row that has the header's fields is named as such: its rows are all rejected, so
    /// any check of the other columns would blame one of them.
    /// </summary>
    private static void CheckLabelHasValues(FirstPassResult first, ModelSpec spec, int maxClasses)
    {
        var empty = first.Lines.RejectedBy.GetValueOrDefault(ReasonCodes.LabelMissingInRow);
        if (empty == 0 || empty + first.Lines.RejectedBy.GetValueOrDefault(ReasonCodes.RaggedRows) != first.DataRows) return;
        var label = CellValues.Escape(first.Header[first.LabelIndex]);
        var advice = spec.Label is null
            ? InferredLabelAdvice(first, spec, maxClasses)
            : " A model learns from rows whose label is known: fill the label in, or name the column that holds it in the spec's \"label\".";
        throw new Rejection(ReasonCodes.LabelAllMissing, $"The label column '{label}' is empty in every row ({empty} of {first.DataRows} rows).{advice}");
    }

    /// <summary>
    /// After a problem with the label, where the spec names none: which column was taken and why, and the columns that
    /// could hold what the model should predict instead (two to <paramref name="maxClasses"/> values, fewest first, then
    /// numbers; three at most). Empty when the spec names the label: then the user chose it.
    /// </summary>
    private static string InferredLabelAdvice(FirstPassResult first, ModelSpec spec, int maxClasses)
    {
        if (spec.Label is not null) return "";
        var label = first.Header[first.LabelIndex];
        var others = new List<(string Text, int Rank)>();
        for (var i = 0; i < first.Stats.Length; i++)
        {
            var stat = first.Stats[i];
            var kind = stat.InferKind();
            if (i == first.LabelIndex || stat.Present == 0 || kind is ColumnKind.Text or ColumnKind.DateTime) continue;
            var values = stat.DistinctOverflow ? int.MaxValue : stat.Distinct.Count;
            if (stat.InferLabelTask(kind) == TaskKind.Regression) others.Add(($"'{CellValues.Escape(stat.Name)}' (numbers)", int.MaxValue));
            else if (values >= 2 && values <= maxClasses) others.Add(($"'{CellValues.Escape(stat.Name)}' ({values} values)", values));
        }
        var could = others.Count == 0 ? "" : $"; columns that could be the label: {string.Join(", ", others.OrderBy(o => o.Rank).Take(3).Select(o => o.Text))}";
        return $" No label was named, so {LabelRule(label)}, '{CellValues.Escape(label)}', was taken. Name the column that holds what the model should predict in the spec's \"label\"{could}.";
    }
}
