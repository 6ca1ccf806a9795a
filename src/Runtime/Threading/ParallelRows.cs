namespace ReClip.Runtime.Threading;

/// <summary>
/// Splits independent rows over the compute pool in contiguous chunks, one chunk per thread, and runs
/// small inputs inline (below ~64k elements of work the hand-off costs more than it saves).
/// </summary>
public static class ParallelRows
{
    private const long InlineWork = 1 << 16;

    /// <param name="rows">How many rows there are.</param>
    /// <param name="workPerRow">Roughly how many elements one row touches, to decide whether to go parallel.</param>
    /// <param name="body">Called with [start, end) row ranges.</param>
    public static void For(int rows, long workPerRow, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ComputePool pool = ComputePool.Shared;
        if (rows <= 1 || pool.Threads == 1 || rows * workPerRow < InlineWork)
        {
            body(0, rows);
            return;
        }
        int tasks = Math.Min(rows, pool.Threads);
        pool.Run(tasks, new Chunks(rows, tasks, body));
    }

    private sealed class Chunks(int rows, int tasks, Action<int, int> body) : IParallelJob
    {
        public void Execute(int task) => body((int)((long)rows * task / tasks), (int)((long)rows * (task + 1) / tasks));
    }
}
