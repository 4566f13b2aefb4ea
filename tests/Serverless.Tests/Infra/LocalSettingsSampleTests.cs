using System.Reflection;
using Microsoft.Extensions.Configuration;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Storage;
using Serverless.Core.Training;

namespace Serverless.Tests.Infra;

/// <summary>
/// local.settings.sample.json lists every setting the Functions app reads: each property of the pipeline's option
/// classes, under its environment-variable name, with the value the code defaults to (under <c>func start</c> a sample
/// value that differs would silently override the default).
/// </summary>
public sealed class LocalSettingsSampleTests
{
    /// <summary>The option classes both hosts bind, with their configuration sections.</summary>
    private static readonly (Type Type, string Section)[] Options =
    [
        (typeof(PipelineStorageOptions), PipelineStorageOptions.Section),
        (typeof(TrainingOptions), TrainingOptions.Section),
        (typeof(IngestionOptions), IngestionOptions.Section),
        (typeof(PredictionOptions), PredictionOptions.Section),
        (typeof(Serverless.Core.Monitoring.PredictionLogOptions), Serverless.Core.Monitoring.PredictionLogOptions.Section),
        (typeof(Serverless.Core.Monitoring.DriftOptions), Serverless.Core.Monitoring.DriftOptions.Section),
    ];

    [Fact]
    public void Sample_ForEveryPipelineOption_NamesItsSetting()
    {
        var text = DeploymentFiles.Text("local.settings.sample.json");

        var missing = AllSettings().Where(name => !text.Contains($"\"{name}\"", StringComparison.Ordinal)).ToList();

        Assert.True(missing.Count == 0, $"local.settings.sample.json does not list: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Sample_PipelineValues_NameExistingOptions()
    {
        var known = AllSettings().ToHashSet(StringComparer.Ordinal);

        var unknown = DeploymentFiles.SampleSettingValues().Keys
            .Where(key => key.StartsWith("Pipeline__", StringComparison.Ordinal) && !known.Contains(key))
            .ToList();

        Assert.True(unknown.Count == 0, $"local.settings.sample.json sets settings no option class reads: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void Sample_PipelineValues_EqualTheCodeDefaults()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(DeploymentFiles.SampleSettingValues().Select(p => KeyValuePair.Create(p.Key.Replace("__", ":", StringComparison.Ordinal), (string?)p.Value)))
            .Build();

        var differences = new List<string>();
        foreach (var (type, section) in Options)
        {
            var defaults = Activator.CreateInstance(type)!;
            var bound = configuration.GetSection(section).Get(type) ?? Activator.CreateInstance(type)!;
            foreach (var property in Settable(type))
            {
                var expected = property.GetValue(defaults);
                var actual = property.GetValue(bound);
                // An empty string and an unset optional setting mean the same to the code (no value).
                if (!Equals(expected, actual) && !(expected is null && actual is "") && !(expected is "" && actual is null))
                {
                    differences.Add($"{section}:{property.Name} is {actual ?? "unset"} in the sample, {expected ?? "unset"} in the code");
                }
            }
        }

        Assert.True(differences.Count == 0, string.Join("; ", differences));
    }

    private static IEnumerable<string> AllSettings() =>
        Options.SelectMany(o => Settable(o.Type).Select(p => $"{o.Section.Replace(":", "__", StringComparison.Ordinal)}__{p.Name}"));

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Instance | BindingFlags.Public).Where(p => p.CanWrite && p.SetMethod!.IsPublic);
}
