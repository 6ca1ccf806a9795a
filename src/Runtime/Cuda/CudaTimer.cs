namespace ReClip.Runtime.Cuda;

/// <summary>GPU-side timing of the work queued on a stream between <see cref="Start"/> and <see cref="StopMilliseconds"/>, with CUDA events.</summary>
public sealed class CudaTimer : IDisposable
{
    private readonly CudaStream stream;
    private readonly nint start;
    private readonly nint end;

    public CudaTimer(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        this.stream = stream;
        CudaDriver.MakeCurrent(stream.Device);
        CudaDriver.Check(DriverApi.cuEventCreate(out start, 0), "cuEventCreate");
        CudaDriver.Check(DriverApi.cuEventCreate(out end, 0), "cuEventCreate");
    }

    /// <summary>
    /// The milliseconds the device takes for what <paramref name="work"/> queues for it where the runtime queues
    /// (<see cref="CaptureStream"/>), between two events there. Waits for the device, so not within a capture.
    /// </summary>
    public static double Time(int device, Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        CaptureStream.Refuse(device, "timing work on the device");
        CudaDriver.MakeCurrent(device);
        nint stream = CaptureStream.For(device);
        CudaDriver.Check(DriverApi.cuEventCreate(out nint begun, 0), "cuEventCreate");
        try
        {
            CudaDriver.Check(DriverApi.cuEventCreate(out nint ended, 0), "cuEventCreate");
            try
            {
                CudaDriver.Check(DriverApi.cuEventRecord(begun, stream), "cuEventRecord");
                work();
                CudaDriver.Check(DriverApi.cuEventRecord(ended, stream), "cuEventRecord");
                CudaDriver.Check(DriverApi.cuEventSynchronize(ended), "cuEventSynchronize");
                CudaDriver.Check(DriverApi.cuEventElapsedTime(out float milliseconds, begun, ended), "cuEventElapsedTime");
                return milliseconds;
            }
            finally
            {
                CudaDriver.Check(DriverApi.cuEventDestroy(ended), "cuEventDestroy");
            }
        }
        finally
        {
            CudaDriver.Check(DriverApi.cuEventDestroy(begun), "cuEventDestroy");
        }
    }

    public void Start() => CudaDriver.Check(DriverApi.cuEventRecord(start, stream.Handle), "cuEventRecord");

    /// <summary>Records the end, waits for it, and returns the milliseconds between the two events.</summary>
    public float StopMilliseconds()
    {
        CudaDriver.Check(DriverApi.cuEventRecord(end, stream.Handle), "cuEventRecord");
        CudaDriver.Check(DriverApi.cuEventSynchronize(end), "cuEventSynchronize");
        CudaDriver.Check(DriverApi.cuEventElapsedTime(out float milliseconds, start, end), "cuEventElapsedTime");
        return milliseconds;
    }

    public void Dispose()
    {
        CudaDriver.MakeCurrent(stream.Device);
        CudaDriver.Check(DriverApi.cuEventDestroy(start), "cuEventDestroy");
        CudaDriver.Check(DriverApi.cuEventDestroy(end), "cuEventDestroy");
    }
}
