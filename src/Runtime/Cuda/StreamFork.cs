using System.Collections.Concurrent;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// Work queued on a second stream beside the one the runtime queues on (the legacy stream, or a capture's), so that
/// two independent pieces of work run at once. A training step at batch 1 fills neither half of the GPU with either
/// tower: the Reference prompt's text forward can run beside the image tower. <see cref="Begin"/> makes the side
/// stream wait for what the main stream has queued so far; <see cref="Run"/> queues work beside; <see cref="Join"/>
/// (or disposing) makes the main stream wait for everything queued beside. Within a capture the side stream joins the
/// capture through the first wait, and the graph gets two branches.
/// <para>
/// What the work beside allocates is ordered on the side stream and may be freed on the main one after the join. Its
/// copies from the host are queued on the side stream and waited for; copies to the host are refused (they would run in
/// the legacy stream's order, not after the work beside). Its GEMMs get a workspace of their own (<see cref="GemmWorkspace"/>).
/// Memory shared by the two streams must outlive both's use of it: the work beside reads long-lived parameters and
/// cached lists, and what it makes itself.
/// On the CPU <see cref="Run"/> runs the work where it is.
/// </para>
/// </summary>
public sealed class StreamFork : IDisposable
{
    private const uint EventDisableTiming = 2;

    /// <summary>CUDA_ERROR_STREAM_CAPTURE_INVALIDATED: an earlier call broke the capture, and its error is the one to report.</summary>
    private const int CaptureInvalidated = 901;

    /// <summary>One side stream per device, made on first use (an eager step's, before any capture) and kept for the process.</summary>
    private static readonly ConcurrentDictionary<int, CudaStream> sides = new();

    /// <summary>Forks not yet joined, per device.</summary>
    private static readonly ConcurrentDictionary<int, int> open = new();

    private readonly int device;
    private readonly nint main;
    private readonly nint side;
    private bool joined;

    private StreamFork(int device, nint main, nint side)
    {
        this.device = device;
        this.main = main;
        this.side = side;
    }

    /// <summary>A fork of <paramref name="device"/>'s work at this point of its main stream; on the CPU, one that runs its work inline.</summary>
    public static StreamFork Begin(Device device)
    {
        if (device.IsCpu)
            return new StreamFork(-1, 0, 0);
        int index = device.Index;
        CudaDriver.MakeCurrent(index);
        nint main = CaptureStream.For(index);
        nint side = sides.GetOrAdd(index, CudaStream.CreateNonBlocking).Handle;
        Order(index, side, after: main, joining: false);
        open.AddOrUpdate(index, 1, (_, count) => count + 1);
        return new StreamFork(index, main, side);
    }

    /// <summary>
    /// Whether work on <paramref name="device"/> may run beside its main stream now: memory one stream frees may then
    /// still be read by the other's queued work, so caches hold on to what they would drop.
    /// </summary>
    public static bool IsOpen(Device device) => !device.IsCpu && open.TryGetValue(device.Index, out int count) && count > 0;

    /// <summary>Runs <paramref name="work"/>, its GPU work queued beside the main stream; returns what it returns.</summary>
    public T Run<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(joined, this);
        if (device < 0)
            return work();
        CaptureStream.EnterBeside(device, side);
        try
        {
            return work();
        }
        finally
        {
            CaptureStream.LeaveBeside();
        }
    }

    /// <summary>Makes the main stream wait for the work queued beside; later calls do nothing.</summary>
    public void Join()
    {
        if (joined) return;
        joined = true;
        if (device < 0) return;
        open.AddOrUpdate(device, 0, (_, count) => count - 1);
        CudaDriver.MakeCurrent(device);
        Order(device, main, after: side, joining: true);
    }

    public void Dispose() => Join();

    /// <summary>
    /// Makes <paramref name="stream"/>'s later work wait for what <paramref name="after"/> has queued so far. In a capture
    /// that an earlier call invalidated, the driver refuses both calls; a join (the work's unwinding) then passes, so
    /// that the capture's end reports that earlier error. A fork there fails: its work would run outside the capture.
    /// </summary>
    private static void Order(int device, nint stream, nint after, bool joining)
    {
        CudaDriver.Check(DriverApi.cuEventCreate(out nint queued, EventDisableTiming), "cuEventCreate");
        try
        {
            int status = DriverApi.cuEventRecord(queued, after);
            if (status == 0)
                status = DriverApi.cuStreamWaitEvent(stream, queued, 0);
            if (!(joining && status == CaptureInvalidated && CaptureStream.Capturing(device)))
                CudaDriver.Check(status, "cuEventRecord/cuStreamWaitEvent");
        }
        finally
        {
            // The wait holds what the record queued: the event itself may go now.
            CudaDriver.Check(DriverApi.cuEventDestroy(queued), "cuEventDestroy");
        }
    }
}
