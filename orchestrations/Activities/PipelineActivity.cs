using Microsoft.DurableTask;
using Serverless.Core.Telemetry;

namespace Serverless.Orchestrations.Activities;

/// <summary>
/// An activity of the training workflow: a Durable Task activity whose work also takes a cancellation token, which
/// Durable Task's activity context does not carry. The engine calls the context overload; the Functions app's trampolines
/// call <see cref="ExecuteAsync"/> with the function's token. Either way the work runs in the activity's span.
/// </summary>
public abstract class PipelineActivity<TInput, TOutput> : TaskActivity<TInput, TOutput>
{
    public sealed override Task<TOutput> RunAsync(TaskActivityContext context, TInput input) => ExecuteAsync(input, CancellationToken.None);

    /// <summary>Runs the activity in a span named for it and tagged with the model and versions it works on.</summary>
    public async Task<TOutput> ExecuteAsync(TInput input, CancellationToken cancellationToken)
    {
        using var span = ActivityTelemetry.Start(GetType().Name, input);
        try
        {
            var output = await RunAsync(input, cancellationToken);
            ActivityTelemetry.Ended(span, output);
            return output;
        }
        catch (Exception e)
        {
            span.Fail(e);
            throw;
        }
    }

    public abstract Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken);
}
