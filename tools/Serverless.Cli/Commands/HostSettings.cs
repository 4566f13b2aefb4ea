using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Serverless.Cli.Commands;

/// <summary>Options of every command that talks to the pipeline's HTTP API.</summary>
public class HostSettings : CommandSettings
{
    public const string HostVariable = "MLOPS_HOST";
    public const string DefaultHost = "http://127.0.0.1:7071";

    [CommandOption("--host <URL>")]
    [Description("The pipeline's HTTP address. Default: $MLOPS_HOST, else " + DefaultHost + " (the local host started by ./run).")]
    public string? Host { get; set; }

    public Uri HostUri => new((Host ?? Environment.GetEnvironmentVariable(HostVariable) ?? DefaultHost).TrimEnd('/') + "/");

    public override ValidationResult Validate()
    {
        var host = Host ?? Environment.GetEnvironmentVariable(HostVariable) ?? DefaultHost;
        return Uri.TryCreate(host, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? ValidationResult.Success()
            : ValidationResult.Error($"--host must be an http:// or https:// address, not '{host}'.");
    }

    public virtual PipelineClient CreateClient() => new(HostUri, null);
}

/// <summary>Options of the commands that change state: they need the admin key when the host has one.</summary>
public class AdminSettings : HostSettings
{
    public const string KeyVariable = "MLOPS_ADMIN_KEY";

    [CommandOption("--key <KEY>")]
    [Description("The admin key (the host's Pipeline:Api:AdminKey locally, a function key on Azure). Default: $MLOPS_ADMIN_KEY.")]
    public string? Key { get; set; }

    [CommandOption("--reason <TEXT>")]
    [Description("Why, in words; kept in the audit log and the alias history.")]
    public string? Reason { get; set; }

    public override PipelineClient CreateClient() => new(HostUri, Key ?? Environment.GetEnvironmentVariable(KeyVariable));
}
