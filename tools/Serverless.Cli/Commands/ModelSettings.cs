using System.ComponentModel;
using Serverless.Core.Hosting;
using Registry = Serverless.Core.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

/// <summary>Settings of a command about one model.</summary>
public class ModelSettings : HostSettings
{
    [CommandArgument(0, "<model>")]
    [Description("The model's name; " + ModelNames.Rule + ".")]
    public string Model { get; set; } = "";

    public override ValidationResult Validate() =>
        !ModelNames.IsValid(Model) ? ValidationResult.Error($"'{Model}' is not a valid model name: {ModelNames.Rule}.") : base.Validate();
}

/// <summary>Settings of an admin command about one model.</summary>
public class ModelAdminSettings : AdminSettings
{
    [CommandArgument(0, "<model>")]
    [Description("The model's name; " + ModelNames.Rule + ".")]
    public string Model { get; set; } = "";

    public override ValidationResult Validate() =>
        !ModelNames.IsValid(Model) ? ValidationResult.Error($"'{Model}' is not a valid model name: {ModelNames.Rule}.") : base.Validate();
}

/// <summary>Settings of an admin command about one version of a model.</summary>
public class VersionAdminSettings : ModelAdminSettings
{
    [CommandArgument(1, "<version>")]
    [Description("The version, e.g. v2 (or 2).")]
    public string Version { get; set; } = "";

    public override ValidationResult Validate()
    {
        // Read as the API reads it: a bare number is that version.
        if (Registry.VersionNames.Normalize(Version) is not { } version) return ValidationResult.Error($"'{Version}' is not a version; versions are named v1, v2, ... ({Registry.VersionNames.Rule}).");
        Version = version;
        return base.Validate();
    }
}
