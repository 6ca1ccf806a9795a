using ReClip.Runtime.Memory;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// Where work is queued: the legacy default stream, except on a thread that is capturing a CUDA graph
/// (<see cref="CudaGraph.Capture"/>), whose work must go to the capturing stream to be recorded, and within
/// <see cref="StreamFork.Run"/>, whose work goes to a stream beside that one. Kernel launches,
/// cuBLAS and cuBLASLt calls, stream-ordered allocations and frees, memsets and device-to-device copies ask here. Copies
/// to or from the host do not: they cannot be recorded, so a capture that meets one fails, and its caller runs the work
/// without a graph.
/// <para>
/// Memory: what the captured work allocates becomes the graph's (allocation nodes), and must be freed within the work
/// (free nodes): a graph that kept an allocation could not be launched twice, so <see cref="End"/> refuses such a capture.
/// Memory from before the capture that the work reads must outlive every replay: what the work releases is freed when
/// the graph goes (a free node would free it again at every replay), and a cache's entries the work reads are held as
/// long (<see cref="Hold"/>).
/// </para>
/// </summary>
internal static class CaptureStream
{
    [ThreadStatic]
    private static Capture? current;

    [ThreadStatic]
    private static (int Device, nint Stream)? beside;

    /// <summary>The stream to queue work for <paramref name="device"/> on: the one beside (<see cref="StreamFork"/>), the capturing stream or the legacy one (0).</summary>
    public static nint For(int device) =>
        beside is { } side && side.Device == device ? side.Stream
        : current is { } capture && capture.Device == device ? capture.Stream : 0;

    /// <summary>Whether this thread is capturing a graph of <paramref name="device"/>'s work.</summary>
    public static bool Capturing(int device) => current is { } capture && capture.Device == device;

    /// <summary>Whether this thread queues <paramref name="device"/>'s work beside the main stream: such work has GEMM workspaces of its own.</summary>
    public static bool Beside(int device) => beside is { } side && side.Device == device;

    /// <summary>
    /// Throws when this thread is capturing for <paramref name="device"/>: <paramref name="what"/> cannot be recorded (a
    /// host copy, or a resource that must outlive the graph). A non-blocking capture stream does not make the driver refuse
    /// such calls, so the runtime refuses them itself, and the capture fails instead of recording a graph without them.
    /// </summary>
    public static void Refuse(int device, string what)
    {
        if (Capturing(device))
            throw new InvalidOperationException($"{what} cannot be part of a CUDA graph (this thread is capturing for cuda:{device})");
    }

    /// <summary>
    /// <see cref="Refuse"/>, and throws beside the main stream too: a copy to the host runs in the legacy stream's order,
    /// not after the work beside it, whose results it would read before they are written.
    /// </summary>
    public static void RefuseHostCopy(int device, string what)
    {
        Refuse(device, what);
        if (Beside(device))
            throw new InvalidOperationException($"{what} cannot be queued beside the main stream of cuda:{device}: it would not wait for the work there");
    }

    /// <summary>Queues this thread's work for <paramref name="device"/> on <paramref name="stream"/> until <see cref="LeaveBeside"/>.</summary>
    internal static void EnterBeside(int device, nint stream)
    {
        if (beside is not null)
            throw new InvalidOperationException("work beside the main stream cannot fork again");
        beside = (device, stream);
    }

    internal static void LeaveBeside() => beside = null;

    public static void Begin(int device, nint stream)
    {
        if (current is not null)
            throw new InvalidOperationException("a CUDA graph capture is under way on this thread already");
        current = new Capture(device, stream);
    }

    /// <summary>
    /// Ends the thread's capture (after cuStreamEndCapture) and returns the memory from before it that a graph of it must
    /// keep. With <paramref name="checkKept"/> (the work finished), throws when the work kept allocations of its own, after
    /// releasing that memory.
    /// </summary>
    public static HeldMemory End(bool checkKept)
    {
        Capture capture = current ?? throw new InvalidOperationException("no CUDA graph capture is under way on this thread");
        current = null;
        var held = new HeldMemory(capture.Device, capture.Deferred, capture.Held);
        if (checkKept && capture.Allocated.Count > 0)
        {
            held.Dispose();
            throw new InvalidOperationException(
                $"the captured work kept {capture.Allocated.Count} device allocation(s) beyond its end; a graph must free what it allocates");
        }
        return held;
    }

    /// <summary>Notes an allocation made for <paramref name="device"/> on this thread (within a capture, a graph's).</summary>
    public static void Allocated(int device, ulong pointer)
    {
        if (current is { } capture && capture.Device == device)
            capture.Allocated.Add(pointer);
    }

    /// <summary>
    /// Whether <paramref name="pointer"/> may be freed now on <see cref="For"/>'s stream: outside a capture, or allocated
    /// within it. Otherwise the free waits for the graph (or the failed capture) to go, and this returns false.
    /// </summary>
    public static bool FreeNow(int device, ulong pointer)
    {
        if (current is not { } capture || capture.Device != device || capture.Allocated.Remove(pointer))
            return true;
        capture.Deferred.Add(pointer);
        return false;
    }

    /// <summary>Within a capture on <paramref name="storage"/>'s device, one more reference to it for the graph to hold.</summary>
    public static void Hold(Storage storage)
    {
        if (current is { } capture && capture.Device == storage.Device.Index && !storage.Device.IsCpu)
        {
            storage.Retain();
            capture.Held.Add(storage);
        }
    }

    private sealed class Capture(int device, nint stream)
    {
        public int Device { get; } = device;

        public nint Stream { get; } = stream;

        public HashSet<ulong> Allocated { get; } = [];

        public List<ulong> Deferred { get; } = [];

        public List<Storage> Held { get; } = [];
    }
}

/// <summary>Memory from before a capture that its graph reads: freed or released when the graph goes (or at once, for a failed capture).</summary>
internal sealed class HeldMemory(int device, IReadOnlyList<ulong> deferred, IReadOnlyList<Storage> held) : IDisposable
{
    private bool disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (Storage storage in held)
            storage.Release();
        if (deferred.Count == 0) return;
        CudaDriver.MakeCurrent(device);
        // Queued on the legacy stream behind every replay: the replays run there too (StepGraph launches on it).
        foreach (ulong pointer in deferred)
            CudaDriver.Check(DeviceMemory.Free(device, pointer), "cuMemFreeAsync");
    }
}
