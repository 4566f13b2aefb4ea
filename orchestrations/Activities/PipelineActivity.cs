using Microsoft.DurableTask;

namespace Serverless.Orchestrations.Activities;

/// <summary>
/// An activity of the training workflow: a Durable Task activity whose work also takes a cancellation token, which
/// Durable Task's activity context does not carry. The engine calls the context overload; the Functions app's trampolines
/// pass the function's token.
/// </summary>
public abstract class PipelineActivity<TInput, TOutput> : TaskActivity<TInput, TOutput>
{
    public sealed override Task<TOutput> RunAsync(TaskActivityContext context, TInput input) => RunAsync(input, CancellationToken.None);

    public abstract Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken);
}
