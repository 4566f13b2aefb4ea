using Microsoft.Extensions.DependencyInjection;

namespace Serverless.Core.Workflows;

/// <summary>The orchestrators and activities a host can run, by name (the class name, as <c>nameof</c> gives it).</summary>
public sealed class WorkflowCatalog
{
    private readonly Dictionary<string, Type> _workflows = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Type> _activities = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyDictionary<string, Type> Workflows => _workflows;
    public IReadOnlyDictionary<string, Type> Activities => _activities;

    internal void AddWorkflow(Type type) => _workflows[type.Name] = type;
    internal void AddActivity(Type type) => _activities[type.Name] = type;

    public IWorkflow CreateWorkflow(IServiceProvider services, string name) =>
        _workflows.TryGetValue(name, out var type)
            ? (IWorkflow)ActivatorUtilities.CreateInstance(services, type)
            : throw new InvalidOperationException($"No orchestrator named '{name}' is registered.");

    public IWorkflowActivity CreateActivity(IServiceProvider services, string name) =>
        _activities.TryGetValue(name, out var type)
            ? (IWorkflowActivity)ActivatorUtilities.CreateInstance(services, type)
            : throw new InvalidOperationException($"No activity named '{name}' is registered.");
}

/// <summary>Registration of orchestrators and activities.</summary>
public static class WorkflowServiceCollectionExtensions
{
    public static IServiceCollection AddWorkflow<T>(this IServiceCollection services) where T : class, IWorkflow
    {
        Catalog(services).AddWorkflow(typeof(T));
        return services;
    }

    public static IServiceCollection AddWorkflowActivity<T>(this IServiceCollection services) where T : class, IWorkflowActivity
    {
        Catalog(services).AddActivity(typeof(T));
        return services;
    }

    private static WorkflowCatalog Catalog(IServiceCollection services)
    {
        var descriptor = services.FirstOrDefault(d => d.ServiceType == typeof(WorkflowCatalog));
        if (descriptor?.ImplementationInstance is WorkflowCatalog existing) return existing;
        var catalog = new WorkflowCatalog();
        services.AddSingleton(catalog);
        return catalog;
    }
}
