using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Infra;

/// <summary>The deployment files of the repository as the tests about them read them.</summary>
internal static class DeploymentFiles
{
    public static string Text(params string[] path) => File.ReadAllText(Path.Combine([RepositoryPaths.Root, .. path]));

    /// <summary>local.settings.sample.json's <c>Values</c>. The file has comments, which Core Tools' Json.NET skips.</summary>
    public static Dictionary<string, string> SampleSettingValues()
    {
        var sample = JsonNode.Parse(Text("local.settings.sample.json"), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;
        return sample["Values"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
    }

    /// <summary>
    /// The functions.metadata of the functions/ build in the tests' own configuration (bin/Release/net10.0 under ./test).
    /// </summary>
    public static JsonArray FunctionsMetadata() => JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsOutput(), "functions.metadata")))!.AsArray();

    /// <summary>The build output of functions/ in the tests' own configuration (bin/Release/net10.0 under ./test).</summary>
    public static string FunctionsOutput()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var configuration = output.Parent!.Name;
        var path = Path.Combine(RepositoryPaths.Root, "functions", "bin", configuration, output.Name);
        if (!File.Exists(Path.Combine(path, "functions.metadata")))
        {
            Assert.Fail($"{path} holds no build of functions/: build it first (dotnet build Serverless.sln -c {configuration}, as ./test does).");
        }
        return path;
    }
}
