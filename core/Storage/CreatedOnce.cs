namespace Serverless.Core.Storage;

/// <summary>
/// An idempotent creation (a table, the containers) run once per process and shared by concurrent callers. Only a
/// success is kept: a creation that failed (storage unreachable at the first request) is run again by the next call,
/// where a cached faulted task would fail every later call until the process restarts.
/// </summary>
public sealed class CreatedOnce(Func<Task> create)
{
    private readonly Lock _gate = new();
    private Task? _creation;

    /// <summary>The creation under way or done; a new one when the last one failed or was cancelled.</summary>
    public Task EnsureAsync()
    {
        lock (_gate)
        {
            if (_creation is null || _creation.IsFaulted || _creation.IsCanceled) _creation = Start();
            return _creation;
        }
    }

    // A creation that throws before its first await is a failed task too, so that it is retried like any other failure.
    private async Task Start() => await create().ConfigureAwait(false);
}
