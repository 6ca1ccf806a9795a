namespace ReClip.Runtime.Cuda;

/// <summary>A CUDA stream of one device: kernels and copies queued on it run in order.</summary>
public sealed class CudaStream : IDisposable
{
    private bool disposed;

    private CudaStream(int device, nint handle)
    {
        Device = device;
        Handle = handle;
    }

    public int Device { get; }

    public nint Handle { get; }

    /// <summary>
    /// A blocking stream (flag 0): it synchronises implicitly with the legacy default stream, on which the
    /// synchronous tensor copies run, so a copy after a launch on this stream sees the kernel's results.
    /// </summary>
    public static CudaStream Create(int device)
    {
        CudaDriver.MakeCurrent(device);
        CudaDriver.Check(DriverApi.cuStreamCreate(out nint handle, 0), "cuStreamCreate");
        return new CudaStream(device, handle);
    }

    /// <summary>
    /// A non-blocking stream (flag 1): no implicit synchronisation with the legacy default stream. Graphs are captured
    /// on one, since while a blocking stream captures, any use of the legacy stream (by any thread) breaks the capture.
    /// </summary>
    public static CudaStream CreateNonBlocking(int device)
    {
        CudaDriver.MakeCurrent(device);
        CudaDriver.Check(DriverApi.cuStreamCreate(out nint handle, 1), "cuStreamCreate");
        return new CudaStream(device, handle);
    }

    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CudaDriver.MakeCurrent(Device);
        CudaDriver.Check(DriverApi.cuStreamSynchronize(Handle), "cuStreamSynchronize");
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        CudaDriver.MakeCurrent(Device);
        CudaDriver.Check(DriverApi.cuStreamDestroy(Handle), "cuStreamDestroy");
    }
}
