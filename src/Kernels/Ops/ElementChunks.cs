using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Splits a flat elementwise pass into fixed chunks for <see cref="ParallelRows"/>, so that tensors of any shape
/// (one long row included) spread over the compute pool; small inputs still run inline.
/// </summary>
internal static class ElementChunks
{
    /// <summary>16k floats = 64 KB per chunk: large enough that hand-off cost is negligible, small enough to balance.</summary>
    private const int Chunk = 1 << 14;

    /// <param name="count">Number of elements.</param>
    /// <param name="body">Called with [start, end) element ranges.</param>
    public static void For(long count, Action<long, long> body)
    {
        int chunks = checked((int)((count + Chunk - 1) / Chunk));
        ParallelRows.For(chunks, Chunk, (start, end) => body((long)start * Chunk, Math.Min((long)end * Chunk, count)));
    }
}
