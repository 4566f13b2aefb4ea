using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Workflows;

namespace Serverless.Testing;

/// <summary>Registers the test workflows.</summary>
public static class TestWorkflowRegistration
{
    public static IServiceCollection AddTestWorkflows(this IServiceCollection services) => services
        .AddWorkflow<FanOutWorkflow>()
        .AddWorkflow<NoopFanOutWorkflow>()
        .AddWorkflow<NoopSequenceWorkflow>()
        .AddWorkflow<RetryWorkflow>()
        .AddWorkflow<TimerAndEventWorkflow>()
        .AddWorkflow<CountdownWorkflow>()
        .AddWorkflow<ChangingWorkflow>()
        .AddWorkflow<WaitForeverWorkflow>()
        .AddWorkflow<CarryEventWorkflow>()
        .AddWorkflow<ConcurrencyWorkflow>()
        .AddWorkflowActivity<ConcurrencyProbe>()
        .AddWorkflowActivity<ReadConcurrency>()
        .AddWorkflowActivity<RecordedStep>()
        .AddWorkflowActivity<Noop>()
        .AddWorkflowActivity<Flaky>();
}
