namespace ReClip.Runtime.Cuda;

/// <summary>
/// Where work is queued: the legacy default stream, except on a thread that is capturing a CUDA graph
/// (<see cref="CudaGraph.Capture"/>), whose work must go to the capturing stream to be recorded. Kernel launches,
/// cuBLAS and cuBLASLt calls, stream-ordered allocations and frees, memsets and device-to-device copies ask here. Copies
/// to or from the host do not: they cannot be recorded, so a capture that meets one fails, and its caller runs the work
/// without a graph.
/// <para>
/// Memory: what the captured work allocates becomes the graph's (allocation nodes), and must be freed within the work
/// (free nodes): a graph that kept an allocation could not be launched twice, so <see cref="End"/> refuses such a capture.
/// Memory allocated before the capture and released during it is freed once the capture ends, outside the graph: a
/// free node would free it again at every replay.
/// </para>
/// </summary>
internal static class CaptureStream
{
    [ThreadStatic]
    private static Capture? current;

    /// <summary>The stream to queue work for <paramref name="device"/> on: the capturing stream or the legacy one (0).</summary>
    public static nint For(int device) => current is { } capture && capture.Device == device ? capture.Stream : 0;

    public static void Begin(int device, nint stream)
    {
        if (current is not null)
            throw new InvalidOperationException("a CUDA graph capture is under way on this thread already");
        current = new Capture(device, stream);
    }

    /// <summary>
    /// Ends the thread's capture (after cuStreamEndCapture): frees what it deferred; with <paramref name="checkKept"/> (the
    /// work finished), throws when the work kept allocations of its own.
    /// </summary>
    public static void End(bool checkKept)
    {
        Capture capture = current ?? throw new InvalidOperationException("no CUDA graph capture is under way on this thread");
        current = null;
        foreach (ulong pointer in capture.Deferred)
            CudaDriver.Check(DeviceMemory.Free(capture.Device, pointer), "cuMemFreeAsync");
        if (checkKept && capture.Allocated.Count > 0)
            throw new InvalidOperationException(
                $"the captured work kept {capture.Allocated.Count} device allocation(s) beyond its end; a graph must free what it allocates");
    }

    /// <summary>Notes an allocation made for <paramref name="device"/> on this thread (within a capture, a graph's).</summary>
    public static void Allocated(int device, ulong pointer)
    {
        if (current is { } capture && capture.Device == device)
            capture.Allocated.Add(pointer);
    }

    /// <summary>
    /// Whether <paramref name="pointer"/> may be freed now on <see cref="For"/>'s stream: outside a capture, or allocated
    /// within it. Otherwise the free is deferred to the end of the capture and this returns false.
    /// </summary>
    public static bool FreeNow(int device, ulong pointer)
    {
        if (current is not { } capture || capture.Device != device || capture.Allocated.Remove(pointer))
            return true;
        capture.Deferred.Add(pointer);
        return false;
    }

    private sealed class Capture(int device, nint stream)
    {
        public int Device { get; } = device;

        public nint Stream { get; } = stream;

        public HashSet<ulong> Allocated { get; } = [];

        public List<ulong> Deferred { get; } = [];
    }
}
