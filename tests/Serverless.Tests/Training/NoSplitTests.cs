using System.Text;
using Microsoft.ML;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>
/// LightGbm on data where no feature separates the label (two categorical features of many values, each value a row or
/// two, none telling big from small, as many rows big as small): the candidate fails saying so, not with ML.NET's
/// argument error.
/// </summary>
public sealed class NoSplitTests
{
    private const int Seed = 42;

    [Fact]
    public void Fit_LightGbmOnFeaturesThatSplitNothing_SaysNoFeatureSeparatesTheLabel()
    {
        var schema = new DatasetSchema
        {
            Columns = [new("a", ColumnKind.Categorical), new("b", ColumnKind.Categorical), new("size", ColumnKind.Categorical)],
            Label = "size",
            Task = TaskKind.Binary,
            Features = ["a", "b"],
            Classes = ["big", "small"],
        };
        var random = new Random(7);
        var file = Path.Combine(Path.GetTempPath(), $"no-split-{Guid.NewGuid():N}.csv");
        File.WriteAllText(file, "a,b,size\n" + string.Join("\n", Enumerable.Range(0, 300).Select(i =>
            $"a{random.Next(150)},b{random.Next(150)},{(i % 2 == 0 ? "big" : "small")}")) + "\n", Encoding.UTF8);
        try
        {
            var ml = FeaturePipeline.Context(Seed);
            var data = FeaturePipeline.Loader(ml, schema).Load(file);

            var error = Assert.Throws<NoSplitException>(() => ModelTrainer.Fit(ml, schema, null, Blend.Members()[0], Seed, data));

            Assert.Equal("LightGbm found no split in the features: no feature separates the label on this data, so it could not grow a tree.", error.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
