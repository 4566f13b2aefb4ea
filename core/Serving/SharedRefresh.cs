namespace Serverless.Core.Serving;

/// <summary>
/// One re-read at a time of something a host holds and keeps serving (an alias's version, a model's monitoring
/// settings): callers that find it stale start the read or join the one in flight, and a request waits for it at most
/// a bound counted from when the read started. A read that storage does not answer (an outage: the SDK retries for
/// half a minute) then costs the request that started it that bound, and no other request anything.
/// </summary>
internal sealed class SharedRefresh
{
    private Task _read = Task.CompletedTask;
    private long _startedAt;
    private int _running;
    private int _overdueReported;

    /// <summary>Whether a read is in flight (checked first on the request path, so no closure is made for nothing).</summary>
    public bool Running => Volatile.Read(ref _running) != 0;

    /// <summary>Starts <paramref name="read"/> unless a read is in flight. It runs off the caller's path and must log its own failures.</summary>
    public void Start(Func<Task> read)
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0) return;
        Volatile.Write(ref _overdueReported, 0);
        Volatile.Write(ref _startedAt, Environment.TickCount64);
        var run = new Task<Task>(async () =>
        {
            try
            {
                await read().ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }
        });
        Volatile.Write(ref _read, run.Unwrap());
        run.Start(TaskScheduler.Default);
    }

    /// <summary>
    /// Starts <paramref name="read"/> unless a read is in flight, and waits for the read at most <paramref name="wait"/>
    /// from when it started. Returns true to one caller per read that runs past that bound (that caller logs it), else false.
    /// </summary>
    public async Task<bool> WaitAsync(Func<Task> read, TimeSpan wait, CancellationToken ct)
    {
        Start(read);
        var inFlight = Volatile.Read(ref _read);
        var left = wait - TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _startedAt));
        if (left > TimeSpan.Zero)
        {
            try
            {
                await inFlight.WaitAsync(left, ct).ConfigureAwait(false);
                return false;
            }
            catch (TimeoutException)
            {
                // Still reading: the caller goes on with what it holds.
            }
        }
        return !inFlight.IsCompleted && Interlocked.CompareExchange(ref _overdueReported, 1, 0) == 0;
    }
}
