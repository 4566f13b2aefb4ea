using System.Reflection;
using System.Text.RegularExpressions;
using Serverless.Core.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

public sealed partial class ReasonCodesTests
{
    private static readonly string[] Codes =
        [.. typeof(ReasonCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!)];

    [Fact]
    public void Every_code_is_distinct_and_written_as_the_api_writes_codes()
    {
        Assert.True(Codes.Length > 30);
        Assert.Equal(Codes.Length, Codes.Distinct(StringComparer.Ordinal).Count());
        Assert.All(Codes, code => Assert.Matches("^[a-z]+(_[a-z]+)+$", code));
    }

    [Fact]
    public void The_codes_the_readme_names_for_uploads_are_codes_ingestion_gives()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var start = readme.IndexOf("## What becomes of an upload", StringComparison.Ordinal);
        var section = readme[start..readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal)];
        var named = CodeSpan().Matches(section).Select(m => m.Groups[1].Value).Distinct().ToArray();

        Assert.Contains(ReasonCodes.RaggedRows, named);
        Assert.All(named, code => Assert.Contains(code, Codes));
    }

    /// <summary>A backticked lower-case snake_case word, as the README writes a code.</summary>
    [GeneratedRegex("`([a-z]+(?:_[a-z]+)+)`")]
    private static partial Regex CodeSpan();
}
