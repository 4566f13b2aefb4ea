using System.ComponentModel;
using Serverless.Core.Hosting;
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
