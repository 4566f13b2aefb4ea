namespace Serverless.Core.Api;

/// <summary>Who may call the admin routes, on both hosts, bound from <c>Pipeline:Api</c>.</summary>
public sealed class ApiAccessOptions
{
    public const string Section = "Pipeline:Api";

    /// <summary>
    /// When set, the admin routes also need a caller in this role: on Azure a role of App Service authentication's client
    /// principal, locally a role of the admin key (<c>Pipeline:Api:KeyRoles:{name}</c>). 401 without a caller, 403 without the role.
    /// </summary>
    public string? AdminRole { get; set; }
}
