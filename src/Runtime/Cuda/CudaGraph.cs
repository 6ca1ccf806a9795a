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
    private bool disposed;

    private CudaGraph(int device, nint graph, nint executable)
    {
        this.device = device;
        this.graph = graph;
        this.executable = executable;
    }

    /// <summary>
    /// Records what <paramref name="work"/> queues for the stream's device on this thread (nothing runs during capture):
    /// the runtime's launches, GEMMs, allocations, memsets and device copies go to <paramref name="stream"/> meanwhile
    /// (<see cref="CaptureStream"/>). Work that copies to or from the host, or keeps device memory it allocated, cannot
    /// be a graph: the capture then fails with the reason, and nothing of the work has run.
    /// </summary>
    public static CudaGraph Capture(CudaStream stream, Action work)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(work);
        CudaDriver.MakeCurrent(stream.Device);
        CudaDriver.Check(DriverApi.cuStreamBeginCapture(stream.Handle, CaptureModeThreadLocal), "cuStreamBeginCapture");
        CaptureStream.Begin(stream.Device, stream.Handle);
        nint graph = 0;
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
                CaptureStream.End(checkKept: recorded);
                if (recorded)
                    CudaDriver.Check(status, "cuStreamEndCapture");
            }
            catch
            {
                if (graph != 0)
                    DriverApi.cuGraphDestroy(graph);
                throw;
            }
            if (!recorded && graph != 0)
                DriverApi.cuGraphDestroy(graph);
        }
        int instantiated = DriverApi.cuGraphInstantiateWithFlags(out nint executable, graph, 0);
        if (instantiated != 0)
        {
            DriverApi.cuGraphDestroy(graph);
            CudaDriver.Check(instantiated, "cuGraphInstantiateWithFlags");
        }
        return new CudaGraph(stream.Device, graph, executable);
    }

    public void Launch(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CudaDriver.MakeCurrent(stream.Device);
        CudaDriver.Check(DriverApi.cuGraphLaunch(executable, stream.Handle), "cuGraphLaunch");
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        CudaDriver.MakeCurrent(device);
        CudaDriver.Check(DriverApi.cuGraphExecDestroy(executable), "cuGraphExecDestroy");
        CudaDriver.Check(DriverApi.cuGraphDestroy(graph), "cuGraphDestroy");
    }
}
