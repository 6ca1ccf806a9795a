using ReClip.Runtime.Platform;

namespace ReClip.Model.Data;

/// <summary>How far ahead the loops that read data on the thread pool go, and how many threads they use.</summary>
public static class ReadAhead
{
    /// <summary>One item per compute thread (RECLIP_THREADS, else the cores) but one, the consuming thread's; at most 8.</summary>
    public static int DefaultDepth => Math.Clamp(CpuInfo.Threads - 1, 1, 8);

    /// <summary>For a parallel loop inside one item: no more threads than the compute threads.</summary>
    public static ParallelOptions Parallelism => new() { MaxDegreeOfParallelism = CpuInfo.Threads };
}

/// <summary>
/// Reads items 0..count−1 on the thread pool, up to <c>depth</c> beyond the one the caller takes, and hands them back in
/// order, so that decoding the next images overlaps the work on the current one. An item that could not be read throws
/// its own error when it is taken, so errors come in the order a plain loop meets them.
/// </summary>
/// <param name="read">Reads item i; runs on pool threads, several at once.</param>
/// <param name="release">Frees an item read ahead that no one took (the loop stopped early), if items hold resources.</param>
public sealed class ReadAhead<T>(int count, Func<int, T> read, int depth, Action<T>? release = null) : IDisposable
{
    private readonly Queue<Task<T>> pending = new();
    private int scheduled, taken;

    public int Depth { get; } = depth >= 1 ? depth : throw new ArgumentOutOfRangeException(nameof(depth), depth, "at least one item ahead");

    /// <summary>The next item in order.</summary>
    public T Next()
    {
        if (taken >= count)
            throw new InvalidOperationException($"ReadAhead: all {count} items were taken");
        for (; scheduled < count && scheduled <= taken + Depth; scheduled++)
        {
            int item = scheduled;
            pending.Enqueue(Task.Run(() => read(item)));
        }
        taken++;
        return pending.Dequeue().GetAwaiter().GetResult();
    }

    /// <summary>Waits for the reads no one took (the loop stopped early), so that none outlives the loop, and releases them.</summary>
    public void Dispose()
    {
        while (pending.Count > 0)
            try
            {
                T item = pending.Dequeue().GetAwaiter().GetResult();
                release?.Invoke(item);
            }
            catch (Exception)
            {
                // Nothing takes this item, so its reading error is no one's to report.
            }
    }
}
