using System.Text;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Tests.Specs;

/// <summary>A spec is checked in full before it counts: every bad field named at once, with the valid values, in words.</summary>
public sealed class ModelSpecValidationTests
{
    private static readonly DatasetSchema Taxi = new()
    {
        Columns = [new ColumnSchema("vendor_id", ColumnKind.Categorical), new ColumnSchema("trip_distance", ColumnKind.Numeric), new ColumnSchema("fare_amount", ColumnKind.Numeric)],
        Label = "fare_amount",
        Task = TaskKind.Regression,
        Features = ["vendor_id", "trip_distance"],
    };

    private static IReadOnlyDictionary<string, string[]> Problems(string json, DatasetSchema? latest = null) =>
        Assert.Throws<InvalidSpecException>(() => ModelSpecValidation.Parse(Encoding.UTF8.GetBytes(json), latest)).Problems;

    [Fact]
    public void Parse_FileSavedWithAUtf8ByteOrderMark_IsRead()
    {
        var spec = ModelSpecValidation.Parse((byte[])[0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("""{"label":"fare_amount"}""")], null);

        Assert.Equal("fare_amount", spec.Label);
    }

    [Fact]
    public void Parse_FileNotSavedAsUtf8_SaysWhereAndWhatToDo()
    {
        // "café" as Latin-1 writes it: the é is one byte, 0xE9, which UTF-8 reads as the start of a character cut short.
        var problems = Assert.Throws<InvalidSpecException>(() => ModelSpecValidation.Parse(Encoding.Latin1.GetBytes("{\n\"label\":\"café\"}"), null)).Problems;

        Assert.Equal("not UTF-8 text (line 2, byte 13); save it as UTF-8", Assert.Single(problems["spec"]));
    }

    [Fact]
    public void Parse_MisspeltTaskAndPolicy_SuggestTheValueMeant()
    {
        var problems = Problems("""{"task":"regresion","policy":"apend"}""");

        Assert.Equal("must be one of regression, binary, multiclass; did you mean 'regression'?", Assert.Single(problems["task"]));
        Assert.EndsWith("did you mean 'append'?", Assert.Single(problems["policy"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n ")]
    public void Parse_EmptyFile_SaysItIsEmptyAndWhatToWrite(string text)
    {
        Assert.Equal("the spec is empty; write a JSON object, {} for a spec that infers everything", Assert.Single(Problems(text)["spec"]));
    }

    [Fact]
    public void Parse_MisspeltKey_NamesItAndSuggestsTheKey()
    {
        var problems = Problems("""{"lable":"fare_amount"}""");

        var problem = Assert.Single(problems["lable"]);
        Assert.Contains("unknown key", problem);
        Assert.Contains("did you mean 'label'", problem);
    }

    [Fact]
    public void Parse_BlendForAMulticlassTask_IsRefusedInWords_ForRegressionAccepted()
    {
        var problems = Problems("""{"label":"tier","task":"multiclass","trainers":[{"name":"Blend"}]}""");

        var problem = Assert.Single(problems["trainers[0].name"]);
        Assert.Contains("a multiclass task cannot be blended", problem);
        Assert.Equal("Blend", Assert.Single(ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"trainers":[{"name":"Blend"}]}"""), Taxi).Trainers!).Name);
    }

    [Fact]
    public void Parse_HeaderAndColumnNamesBoth_IsRefused_EitherAloneAccepted()
    {
        var problems = Problems("""{"hasHeader":true,"columnNames":["v","fare"],"label":"fare"}""");

        Assert.Contains("leave one of the two out", Assert.Single(problems["columnNames"]));
        Assert.Equal("fare", ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"hasHeader":false,"columnNames":["v","fare"],"label":"fare"}"""), null).Label);
        Assert.True(ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"hasHeader":true,"label":"fare_amount"}"""), Taxi).HasHeader);
    }

    [Fact]
    public void Parse_RangesOnAColumnThatIsNotNumeric_AsTheDataOrTheSpecTypesIt_IsRefused()
    {
        var fromData = Problems("""{"ranges":{"vendor_id":{"min":0}}}""", Taxi);
        var fromSpec = Problems("""{"columns":{"trip_distance":"categorical"},"ranges":{"trip_distance":{"max":100}}}""", Taxi);

        Assert.Equal("'vendor_id' is a categorical column, and ranges bound numeric columns; leave it out of ranges, or declare it numeric under columns", Assert.Single(fromData["ranges.vendor_id"]));
        Assert.Contains("'trip_distance' is a categorical column", Assert.Single(fromSpec["ranges.trip_distance"]));
        Assert.NotNull(ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"columns":{"vendor_id":"numeric"},"ranges":{"vendor_id":{"min":0},"trip_distance":{"max":100}}}"""), Taxi).Ranges);
    }

    [Theory]
    [InlineData("""{"minimum":{"rmse":-3}}""", "minimum.rmse", "-3 is out of range (an error is 0 or more)")]
    [InlineData("""{"minimum":{"r2":5}}""", "minimum.r2", "5 is out of range (r2 is at most 1)")]
    [InlineData("""{"task":"binary","minimum":{"auc":1.5}}""", "minimum.auc", "1.5 is out of range (auc is from 0 to 1)")]
    [InlineData("""{"task":"multiclass","minimum":{"logLoss":-0.1}}""", "minimum.logLoss", "-0.1 is out of range (an error is 0 or more)")]
    public void Parse_GateNoModelCanPass_IsRefusedNamingTheRange(string json, string field, string problem)
    {
        Assert.StartsWith(problem, Assert.Single(Problems(json)[field]));
    }

    [Fact]
    public void Parse_GateAtTheEdgesOfTheRange_IsAccepted()
    {
        Assert.Equal(3, ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"minimum":{"rmse":0,"r2":-2,"mae":1e6}}"""), null).Minimum!.Count);
        Assert.Equal(2, ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"task":"binary","minimum":{"auc":1,"f1":0}}"""), null).Minimum!.Count);
    }

    [Fact]
    public void Parse_MetricsOfDifferentTasksWithoutATask_AreRefused_OneTasksAccepted()
    {
        var problems = Problems("""{"metric":"auc","minimum":{"rmse":1,"macroAccuracy":0.5}}""");

        var problem = Assert.Single(problems["metric"]);
        Assert.StartsWith("'auc', 'rmse', 'macroAccuracy' are not all reported by one task", problem);
        Assert.Contains("regression: rmse, mae, r2", problem);
        Assert.DoesNotContain("Regression", problem);
        Assert.Equal("logLoss", ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"metric":"logLoss","minimum":{"macroAccuracy":0.5}}"""), null).Metric);
    }

    /// <summary>A spec that names another label has the task that label's values will give: not the latest data's.</summary>
    [Fact]
    public void Parse_AnotherLabelThanTheData_MetricsAreNotCheckedAgainstTheDataTask()
    {
        Assert.Equal("macroAccuracy", ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"label":"vendor_id","metric":"macroAccuracy"}"""), Taxi).Metric);
        Assert.Contains("'macroAccuracy' is not reported for a regression task", Assert.Single(Problems("""{"metric":"macroAccuracy"}""", Taxi)["metric"]));
        Assert.StartsWith("'rmse', 'macroAccuracy' are not all reported by one task", Assert.Single(Problems("""{"label":"vendor_id","metric":"rmse","minimum":{"macroAccuracy":0.5}}""", Taxi)["metric"]));
    }

    [Fact]
    public void Parse_RangesWithColumnNames_AreNotCheckedAgainstTheKindsOfTheDataNamedBefore()
    {
        var spec = ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"hasHeader":false,"columnNames":["vendor_id","trip_distance","fare_amount"],"label":"fare_amount","ranges":{"vendor_id":{"min":0}}}"""), Taxi);

        Assert.NotNull(spec.Ranges);
    }

    [Fact]
    public void Parse_DriftColumnWithNeitherMethodNorThreshold_IsRefused()
    {
        Assert.Equal("give a method, a threshold or both", Assert.Single(Problems("""{"drift":{"columns":{"trip_distance":{}}}}""", Taxi)["drift.columns.trip_distance"]));
    }

    [Fact]
    public void Parse_GridForATrainerWithoutParameters_SaysItTakesNone()
    {
        Assert.Equal("Blend takes no parameters; leave its grid out", Assert.Single(Problems("""{"trainers":[{"name":"Blend","grid":{"numberOfLeaves":[2]}}]}""")["trainers[0].grid.numberOfLeaves"]));
    }

    [Fact]
    public void Parse_UnknownTrainersAndGridParameter_NamesEachWithTheCatalog()
    {
        var problems = Problems("""{"trainers":[{"name":"XGBoost"},{"name":"lightgbm"},{"name":"LightGbm","grid":{"numLeaves":[31]}}]}""");

        Assert.Contains("unknown trainer 'XGBoost'", problems["trainers[0].name"][0]);
        Assert.Contains("LightGbm, FastTree", problems["trainers[0].name"][0]);
        Assert.Contains("did you mean 'LightGbm'", problems["trainers[1].name"][0]);
        Assert.Contains("did you mean 'numberOfLeaves'", problems["trainers[2].grid.numLeaves"][0]);
        Assert.Equal(3, problems.Count);
    }

    [Theory]
    [InlineData("-0.5", false)]
    [InlineData("3.5", false)]
    [InlineData("0", true)]
    [InlineData("2.5", true)]
    public void Parse_SimplerWithin_FromZeroToThreeStandardErrors(string within, bool accepted)
    {
        var json = "{\"label\":\"fare_amount\",\"simplerWithin\":" + within + "}";
        if (accepted)
        {
            Assert.Equal(double.Parse(within, System.Globalization.CultureInfo.InvariantCulture), ModelSpecValidation.Parse(Encoding.UTF8.GetBytes(json), Taxi).SimplerWithin);
            return;
        }
        var problem = Assert.Single(Problems(json, Taxi)["simplerWithin"]);
        Assert.Contains("from 0 (the best candidate always wins) to 3", problem);
    }

    [Fact]
    public void Parse_WrongKindsOfValues_DescribesThemWithoutTypeNames()
    {
        var problems = Problems("""{"task":"clustering","seed":"forty-two","hasHeader":"yes","exclude":"a","approvalTimeout":"soon","minimum":{"rmse":"low"}}""");

        Assert.Equal(["approvalTimeout", "exclude", "hasHeader", "minimum.rmse", "seed", "task"], problems.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Contains("one of regression, binary, multiclass", problems["task"][0]);
        Assert.Contains("a whole number", problems["seed"][0]);
        Assert.Contains("true or false", problems["hasHeader"][0]);
        Assert.Contains("a list of texts", problems["exclude"][0]);
        var all = string.Join(" ", problems.Values.SelectMany(v => v));
        Assert.DoesNotContain("System.", all);
        Assert.DoesNotContain("Int32", all);
        Assert.DoesNotContain("Nullable", all);
    }

    [Fact]
    public void Parse_DurationsNoDateCanHold_AreRefusedWithTheLimit_AndTheLimitItselfIsAccepted()
    {
        // Ten million days parse as a duration, and then no clock can have them added: the run or the check failed instead.
        var problems = Problems("""
            {"label":"fare_amount","approvalTimeout":"10000000.00:00:00","drift":{"window":"10675199.02:48:05.4775807","cooldown":"3651.00:00:00"}}
            """);

        Assert.Equal(["approvalTimeout", "drift.cooldown", "drift.window"], problems.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.All(problems.Values, p => Assert.Contains(ModelSpec.MaxDurationRule, Assert.Single(p)));
        var spec = ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"label":"fare_amount","approvalTimeout":"3650.00:00:00","drift":{"window":"3650.00:00:00","cooldown":"3650.00:00:00"}}"""), null);
        Assert.Equal(ModelSpec.MaxDuration, spec.ApprovalTimeout);
        Assert.Equal(ModelSpec.MaxDuration, spec.Drift!.Cooldown);
    }

    /// <summary>Hours past a day, as the README's own example and default write them ("72:00:00"), and .NET's days form alike.</summary>
    [Theory]
    [InlineData("72:00:00", 72 * 60)]
    [InlineData("24:00:00", 24 * 60)]
    [InlineData("3.00:00:00", 72 * 60)]
    [InlineData("23:30:00", 23 * 60 + 30)]
    [InlineData("100:05:00.5", 100 * 60 + 5)]
    [InlineData("72:00", 72 * 60)]
    [InlineData(" 72:00:00 ", 72 * 60)]
    public void Parse_DurationsInHoursPastADay_AreRead(string written, int minutes)
    {
        var spec = ModelSpecValidation.Parse(Encoding.UTF8.GetBytes($$$"""{"approvalTimeout":"{{{written}}}","drift":{"window":"{{{written}}}","cooldown":"{{{written}}}"}}"""), null);

        Assert.Equal(minutes, (int)spec.ApprovalTimeout!.Value.TotalMinutes);
        Assert.Equal(spec.ApprovalTimeout, spec.Drift!.Window);
        Assert.Equal(spec.ApprovalTimeout, spec.Drift.Cooldown);
    }

    [Theory]
    [InlineData("72:60:00")]
    [InlineData("72:00:60")]
    [InlineData("72:0:00")]
    [InlineData(":00:00")]
    [InlineData("72h")]
    public void Parse_DurationsThatAreNot_AreRefusedWithTheForms(string written)
    {
        var problems = Problems($$"""{"approvalTimeout":"{{written}}"}""");

        Assert.Contains("a duration such as \"72:00:00\" (hours:minutes:seconds) or \"3.00:00:00\" (days)", Assert.Single(problems["approvalTimeout"]));
    }

    /// <summary>A list's items are named in the plural by the keys they take, not by a key with an "s" added.</summary>
    [Fact]
    public void Parse_TrainersNotAList_NamesTheKeysOfItsItems()
    {
        var problems = Problems("""{"trainers":{}}""");

        Assert.Equal("must be a list of objects with the keys name, grid", Assert.Single(problems["trainers"]));
    }

    /// <summary>A grid whose every value is of the wrong kind has that said, and not also that it gave no value.</summary>
    [Fact]
    public void Parse_GridOfTextValues_SaysTheyMustBeNumbers_NotThatNoneWasGiven()
    {
        var problems = Problems("""{"trainers":[{"name":"LightGbm","grid":{"numberOfLeaves":["16"]}}]}""");

        Assert.Equal(["trainers[0].grid.numberOfLeaves[0]"], problems.Keys.ToArray());
        Assert.Contains("must be a number", problems["trainers[0].grid.numberOfLeaves[0]"][0]);
        Assert.Contains("give at least one value", Assert.Single(Problems("""{"trainers":[{"name":"LightGbm","grid":{"numberOfLeaves":[]}}]}""")["trainers[0].grid.numberOfLeaves"]));
    }

    /// <summary>A trainers list whose every item is of the wrong kind has that said, and not also that it names none.</summary>
    [Fact]
    public void Parse_TrainersOfNames_SaysEachMustBeAnObject_NotThatNoneWasNamed()
    {
        var problems = Problems("""{"trainers":["LightGbm"]}""");

        Assert.Equal(["trainers[0]"], problems.Keys.ToArray());
        Assert.Contains("name at least one trainer", Assert.Single(Problems("""{"trainers":[]}""")["trainers"]));
    }

    /// <summary>A binary task asked of a label the latest data holds 75 values of would be quarantined at the next upload: refused now.</summary>
    [Fact]
    public void Parse_BinaryTaskOnALabelOfManyValues_IsRefusedWithTheCount_TwoValuesAccepted()
    {
        var problems = Assert.Throws<InvalidSpecException>(() => ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"task":"binary","label":"fare_amount"}"""), Taxi, 75)).Problems;

        var problem = Assert.Single(problems["task"]);
        Assert.Contains("'fare_amount' holds 75 in the latest data", problem);
        Assert.Contains("choose regression or multiclass", problem);
        Assert.Equal(TaskKind.Binary, ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"task":"binary","label":"fare_amount"}"""), Taxi, 2).Task);
        // Another label than the data's: its values are not known yet.
        Assert.Equal(TaskKind.Binary, ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"task":"binary","label":"vendor_id"}"""), Taxi, 75).Task);
    }

    [Fact]
    public void Parse_NamesGivenTwice_NumbersTooLarge_AndAMethodInAnotherCase_AreNamedForWhatTheyAre()
    {
        var problems = Problems("""{"label":"fare_amount","label":"x","seed":3000000000,"drift":{"minRows":5,"minRows":6}}""");

        Assert.Equal("given twice; give it once", Assert.Single(problems["label"]));
        Assert.Equal("given twice; give it once", Assert.Single(problems["drift.minRows"]));
        Assert.Equal($"must be at most {int.MaxValue}", Assert.Single(problems["seed"]));
        Assert.Equal("'vendor_id' is named twice", Assert.Single(Problems("""{"exclude":["vendor_id","vendor_id"]}""")["exclude"]));
        Assert.Contains("did you mean 'ks'?", Assert.Single(Problems("""{"drift":{"method":"KS"}}""")["drift.method"]));
    }

    [Fact]
    public void Parse_WholeNumberWithAnExponentOrDecimals_SaysHowToWriteIt_NotARangeItIsIn()
    {
        var problems = Problems("""{"drift":{"minRows":1e3,"maxRows":2.0}}""");

        Assert.Equal("must be a whole number written without an exponent or decimals (1000, not 1e3)", Assert.Single(problems["drift.minRows"]));
        Assert.Equal("must be a whole number written without an exponent or decimals (2, not 2.0)", Assert.Single(problems["drift.maxRows"]));
    }

    /// <summary>
    /// The label in force is the spec's or, when the spec names none, the one the latest data has: neither may be
    /// excluded or made sensitive, a regression's must hold numbers, and drift settings name features the check sees.
    /// </summary>
    [Fact]
    public void Parse_RulesOfTheLabelInForce_AndDriftColumnsTheCheckNeverSees_AreNamed()
    {
        var withText = Taxi with { Columns = [.. Taxi.Columns, new ColumnSchema("trip_id", ColumnKind.Text)] };

        Assert.Contains("cannot also be excluded", Assert.Single(Problems("""{"exclude":["fare_amount"]}""", Taxi)["exclude"]));
        Assert.Contains("cannot also be sensitive", Assert.Single(Problems("""{"sensitive":["fare_amount"]}""", Taxi)["sensitive"]));
        var text = Assert.Single(Problems("""{"label":"trip_id","task":"regression"}""", withText)["label"]);
        Assert.Equal("the label 'trip_id' is a text column, and a regression predicts a number; name a numeric label, or choose the binary or multiclass task", text);
        Assert.Contains("'vendor_id' is a categorical column", Assert.Single(Problems("""{"label":"vendor_id","task":"regression"}""", Taxi)["label"]));
        Assert.Contains("'fare_amount' is a categorical column", Assert.Single(Problems("""{"task":"regression","columns":{"fare_amount":"categorical"}}""", Taxi)["label"]));
        Assert.Equal("vendor_id", ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"label":"vendor_id"}"""), Taxi).Label);

        var drift = Problems("""{"exclude":["vendor_id"],"sensitive":["trip_distance"],"drift":{"columns":{"vendor_id":{"method":"psi"},"trip_distance":{"method":"ks"}}}}""", Taxi);
        Assert.Contains("the column is excluded", Assert.Single(drift["drift.columns.vendor_id"]));
        Assert.Contains("the column is sensitive", Assert.Single(drift["drift.columns.trip_distance"]));
    }

    [Theory]
    [InlineData("0 0 32 * *")]
    [InlineData("61 * * * *")]
    [InlineData("daily")]
    [InlineData("0 * * *")]
    [InlineData("*/")]
    public void Parse_CronOutOfRange_IsNamedInOneSentence(string cron)
    {
        var problem = Assert.Single(Problems($$$"""{"drift":{"schedule":"{{{cron}}}"}}""")["drift.schedule"]);

        Assert.StartsWith("not a cron expression of 5 fields", problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', problem);
        Assert.DoesNotContain("Unexpected character the", problem, StringComparison.Ordinal);
        var whole = Assert.Throws<InvalidSpecException>(() => ModelSpecValidation.Parse(Encoding.UTF8.GetBytes($$$"""{"drift":{"schedule":"{{{cron}}}"}}"""), null)).Message;
        Assert.DoesNotContain("..", whole, StringComparison.Ordinal);
        Assert.DoesNotContain("..", problem, StringComparison.Ordinal);
        Assert.EndsWith(".", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AValueOfTheWrongKind_StillHasEveryOtherProblemNamed()
    {
        var problems = Problems("""
            {"label":"fare_amount","exclude":["fare_amount"],"columns":{"trip_distance":"number","zzz":"text"},
             "trainers":[{"name":"XGBoost"},{"name":"LightGbm","grid":{"numLeaves":[8],"learningRate":[]}},
                         {"name":"Sdca","grid":{"l2Regularization":[-1,"x",2]}}],
             "drift":{"minRows":10,"maxRows":5}}
            """, Taxi);

        Assert.Contains("must be one of", Assert.Single(problems["columns.trip_distance"]));
        Assert.Contains("must be a number", Assert.Single(problems["trainers[2].grid.l2Regularization[1]"]));
        Assert.Contains("no column 'zzz'", Assert.Single(problems["columns.zzz"]));
        Assert.Contains("cannot also be excluded", Assert.Single(problems["exclude"]));
        Assert.Contains("unknown trainer 'XGBoost'", Assert.Single(problems["trainers[0].name"]));
        Assert.Contains("did you mean 'numberOfLeaves'", Assert.Single(problems["trainers[1].grid.numLeaves"]));
        Assert.Contains("at least one value", Assert.Single(problems["trainers[1].grid.learningRate"]));
        // The value of the wrong kind is left out, and the ones after it keep their places.
        Assert.Contains("-1 is out of range", Assert.Single(problems["trainers[2].grid.l2Regularization[0]"]));
        Assert.False(problems.ContainsKey("trainers[2].grid.l2Regularization[2]"));
        Assert.Contains(problems.Keys, k => k.StartsWith("drift.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"label":"y","columns":{"a[b":5}}""", "columns.a[b")]
    [InlineData("""{"label":"y","columns":{"a[1]":5,"c.d":true}}""", "columns.a[1]")]
    [InlineData("""{"label":"y","ranges":{"x]":{"min":"low"}}}""", "ranges.x].min")]
    public void Parse_WrongKindUnderAKeyWithBracketsOrDots_IsNamedNotAServerError(string json, string field)
    {
        var problems = Problems(json);

        Assert.True(problems.ContainsKey(field), string.Join("; ", problems.Keys));
    }

    [Theory]
    [InlineData("LightGbm", "learningRate", "0", "above 0")]
    [InlineData("LightGbm", "numberOfLeaves", "1e308", "a whole number from 2")]
    [InlineData("LightGbm", "numberOfLeaves", "1", "a whole number from 2")]
    [InlineData("FastTree", "numberOfIterations", "0", "a whole number from 1")]
    [InlineData("FastForest", "minimumExampleCountPerLeaf", "2.5", "a whole number")]
    [InlineData("LightGbm", "featureFraction", "1.5", "up to 1")]
    [InlineData("Sdca", "l1Regularization", "-0.1", "from 0")]
    public void Parse_GridValueThatCannotTrain_IsRefusedWithTheRange(string trainer, string parameter, string value, string range)
    {
        var problems = Problems($$$"""{"label":"fare_amount","trainers":[{"name":"{{{trainer}}}","grid":{"{{{parameter}}}":[{{{value}}}]}}]}""");

        var problem = Assert.Single(problems[$"trainers[0].grid.{parameter}[0]"]);
        Assert.Contains("out of range", problem);
        Assert.Contains(range, problem);
    }

    [Fact]
    public void Parse_GridValuesTheTrainersTake_AreAccepted()
    {
        var spec = ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""
            {"label":"fare_amount","trainers":[{"name":"LightGbm","grid":{"numberOfLeaves":[2,31],"learningRate":[0.05,1],"featureFraction":[1]}},
                                               {"name":"Sdca","grid":{"l2Regularization":[0,0.1]}}]}
            """), Taxi);

        Assert.Equal(2, spec.Trainers!.Count);
    }

    [Fact]
    public void Parse_TrainerWithoutName_SaysItIsRequired()
    {
        var problems = Problems("""{"trainers":[{"grid":{"numberOfLeaves":[8]}}]}""");

        Assert.Contains("required", problems["trainers[0].name"][0]);
    }

    [Fact]
    public void Parse_MetricsThatDoNotExistOrDoNotFitTheTask_ListTheTasksMetrics()
    {
        var problems = Problems("""{"task":"regression","metric":"RMSE","minimum":{"auc":0.8,"r2":0.5}}""");

        Assert.Contains("did you mean 'rmse'", problems["metric"][0]);
        Assert.Contains("one of rmse, mae, r2", problems["minimum.auc"][0]);
        Assert.False(problems.ContainsKey("minimum.r2"));
    }

    [Fact]
    public void Parse_ColumnsTheLatestDatasetLacks_NamesEachWithItsColumns()
    {
        var problems = Problems("""{"label":"fare","exclude":["vendor"],"sensitive":["trip_distance"],"columns":{"tip":"numeric"},"timeColumn":"pickup"}""", Taxi);

        Assert.Contains("did you mean 'fare_amount'", problems["label"][0]);
        Assert.Contains("did you mean 'vendor_id'", problems["exclude[0]"][0]);
        Assert.Contains("vendor_id, trip_distance, fare_amount", problems["columns.tip"][0]);
        Assert.True(problems.ContainsKey("timeColumn"));
        Assert.False(problems.ContainsKey("sensitive[0]"));
    }

    [Fact]
    public void Parse_DriftColumnsNotInTheDataOrTheLabel_AreNamed()
    {
        var problems = Problems("""{"drift":{"columns":{"nope":{"method":"psi","threshold":0.2},"fare_amount":{"method":"psi"},"trip_distance":{"method":"psi"}}}}""", Taxi);

        Assert.Contains("no column 'nope'", Assert.Single(problems["drift.columns.nope"]));
        Assert.Contains("the label is not compared", Assert.Single(problems["drift.columns.fare_amount"]));
        Assert.False(problems.ContainsKey("drift.columns.trip_distance"));
    }

    [Fact]
    public void Parse_MetricOfAnotherTaskThanTheLatestDatasets_IsRefused()
    {
        var problems = Problems("""{"metric":"auc"}""", Taxi);

        Assert.Contains("not reported for a regression task", problems["metric"][0]);
    }

    [Fact]
    public void Parse_BadDriftSettings_AreNamedUnderDrift()
    {
        var problems = Problems("""{"drift":{"psiThreshold":0,"sampleRate":2,"retrainSchedule":"every day","windw":7}}""");

        Assert.Equal(["drift.psiThreshold", "drift.retrainSchedule", "drift.sampleRate", "drift.windw"], problems.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Contains("unknown key", problems["drift.windw"][0]);
    }

    [Fact]
    public void Parse_GridsOverTheCandidateLimit_AreRefused()
    {
        var values = string.Join(",", Enumerable.Range(2, 9));
        var problems = Problems($$$"""{"trainers":[{"name":"LightGbm","grid":{"numberOfLeaves":[{{{values}}}],"numberOfIterations":[{{{values}}}]}}]}""");

        Assert.Contains("81 candidates", problems["trainers"][0]);
    }

    [Fact]
    public void Parse_NotJsonOrNotAnObject_NamesTheSpec()
    {
        Assert.Contains("not valid JSON", Problems("""{"label": """)["spec"][0]);
        Assert.Contains("JSON object", Problems("[1,2]")["spec"][0]);
    }

    [Fact]
    public void Parse_AValidSpec_ReadsEveryField()
    {
        var spec = ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""
            {"label":"fare_amount","task":"regression","metric":"rmse","minimum":{"r2":0.5},"exclude":["vendor_id"],
             "trainers":[{"name":"LightGbm","grid":{"numberOfLeaves":[16,31]}},{"name":"Sdca"}],"approval":"manual","approvalTimeout":"01:00:00",
             "drift":{"psiThreshold":0.25,"retrainSchedule":"0 3 * * *"}}
            """), Taxi);

        Assert.Equal("fare_amount", spec.Label);
        Assert.Equal(TaskKind.Regression, spec.Task);
        Assert.Equal([16.0, 31.0], spec.Trainers![0].Grid!["numberOfLeaves"]);
        Assert.Equal(ApprovalMode.Manual, spec.Approval);
        Assert.Equal(0.25, spec.Drift!.PsiThreshold);
    }

    [Fact]
    public void Hash_SameSpecWrittenDifferently_IsEqual()
    {
        var a = ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{"label":"y","task":"binary"}"""), null);
        var b = ModelSpecValidation.Parse(Encoding.UTF8.GetBytes("""{ "task": "Binary",  "label": "y" }"""), null);

        Assert.Equal(SpecVersion.Hash(a), SpecVersion.Hash(b));
        Assert.NotEqual(SpecVersion.Hash(a), SpecVersion.Hash(a with { Label = "z" }));
    }
    [Theory]
    [InlineData(";")]
    [InlineData("comma")]
    [InlineData("")]
    public void Parse_DecimalSeparatorOtherThanPointOrComma_NamesTheFieldAndItsValues(string value)
    {
        var problems = Problems($$"""{"decimalSeparator":"{{value}}"}""");

        Assert.StartsWith("\".\" (numbers written 3.5) or \",\" (numbers written 3,5", Assert.Single(problems["decimalSeparator"]));
    }

    [Theory]
    [InlineData(".")]
    [InlineData(",")]
    public void Parse_DecimalSeparatorPointOrComma_IsRead(string value)
    {
        var spec = ModelSpecValidation.Parse(Encoding.UTF8.GetBytes($$"""{"decimalSeparator":"{{value}}"}"""), null);

        Assert.Equal(value, spec.DecimalSeparator);
    }
}
