using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// A captured and instantiated CUDA graph: the kernels a piece of work queued on a stream, replayed with
/// one launch. A batch-1 training step is launch-bound on a GPU; replaying it as a graph removes the
/// per-kernel launch cost.
/// </summary>
public sealed class CudaGraph : IDisposable
{
    private const int CaptureModeThreadLocal = 1;

    private readonly int device;
    private readonly nint graph;
    private readonly nint executable;
    private readonly HeldMemory held;
    private readonly HashSet<CudaStream> launchedOn = [];
    private bool disposed;

    private CudaGraph(int device, nint graph, nint executable, HeldMemory held)
    {
        this.device = device;
        this.graph = graph;
        this.executable = executable;
        this.held = held;
    }

    /// <summary>
    /// Records what <paramref name="work"/> queues for the stream's device on this thread (nothing runs during capture):
    /// the runtime's launches, GEMMs, allocations, memsets and device copies go to <paramref name="stream"/> meanwhile
    /// (<see cref="CaptureStream"/>). Work that copies to or from the host, or keeps device memory it allocated, cannot
    /// be a graph: the capture then fails with the reason, and nothing of the work has run. A non-blocking stream
    /// (<see cref="CudaStream.CreateNonBlocking"/>) lets other threads use the legacy stream meanwhile.
    /// </summary>
    public static CudaGraph Capture(CudaStream stream, Action work)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(work);
        CudaDriver.MakeCurrent(stream.Device);
        CaptureStream.Begin(stream.Device, stream.Handle);
        int begun = DriverApi.cuStreamBeginCapture(stream.Handle, CaptureModeThreadLocal);
        if (begun != 0)
        {
            CaptureStream.End(checkKept: false).Dispose();
            CudaDriver.Check(begun, "cuStreamBeginCapture");
        }
        nint graph = 0;
        HeldMemory? held = null;
        bool recorded = false;
        try
        {
            work();
            recorded = true;
        }
        finally
        {
            // Capture must end even when the work failed, or the stream stays in capture mode.
            int status = DriverApi.cuStreamEndCapture(stream.Handle, out graph);
            try
            {
                held = CaptureStream.End(checkKept: recorded);
                if (recorded)
                    CudaDriver.Check(status, "cuStreamEndCapture");
            }
            catch
            {
                held?.Dispose();
                if (graph != 0)
                    DriverApi.cuGraphDestroy(graph);
                throw;
            }
            if (!recorded)
            {
                held.Dispose();
                if (graph != 0)
                    DriverApi.cuGraphDestroy(graph);
            }
        }
        int instantiated = DriverApi.cuGraphInstantiateWithFlags(out nint executable, graph, 0);
        if (instantiated != 0)
        {
            DriverApi.cuGraphDestroy(graph);
            held.Dispose();
            CudaDriver.Check(instantiated, "cuGraphInstantiateWithFlags");
        }
        return new CudaGraph(stream.Device, graph, executable, held);
    }

    /// <summary>
    /// Within a capture on this thread (for the tensor's device), the graph being recorded holds a reference to
    /// <paramref name="tensor"/>'s memory until it is disposed: a cache's entry the work reads, which the cache may
    /// otherwise drop while the graph still replays. Outside a capture, nothing.
    /// </summary>
    public static void HoldWhileCapturing(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        CaptureStream.Hold(tensor.Storage);
    }

    /// <summary>Whether this thread is recording a graph of <paramref name="device"/>'s work: what it queues then only runs at replays.</summary>
    public static bool Capturing(int device) => CaptureStream.Capturing(device);

    /// <summary>Replays the graph on <paramref name="stream"/>, or on the legacy default stream (ordered with everything else queued there) when null.</summary>
    public void Launch(CudaStream? stream)
    {
        CudaDriver.MakeCurrent(device);
        CudaDriver.Check(DriverApi.cuGraphLaunch(executable, stream?.Handle ?? 0), "cuGraphLaunch");
        if (stream is not null)
            launchedOn.Add(stream);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        CudaDriver.MakeCurrent(device);
        try
        {
            // The held memory is freed on the legacy stream, which replays on other streams do not order before it.
            foreach (CudaStream stream in launchedOn)
                stream.Synchronize();
            CudaDriver.Check(DriverApi.cuGraphExecDestroy(executable), "cuGraphExecDestroy");
            CudaDriver.Check(DriverApi.cuGraphDestroy(graph), "cuGraphDestroy");
        }
        finally
        {
            held.Dispose();
        }
        // The graph's own allocations go back to the device once no graph holds them.
        CudaDriver.Check(DriverApi.cuDeviceGet(out int handle, device), "cuDeviceGet");
        CudaDriver.Check(DriverApi.cuDeviceGraphMemTrim(handle), "cuDeviceGraphMemTrim");
    }
}
