namespace ReClip.Runtime.Cuda;

/// <summary>GPU-side timing of the work queued on a stream between <see cref="Start"/> and <see cref="StopMilliseconds"/>, with CUDA events.</summary>
public sealed class CudaTimer : IDisposable
{
    private readonly int device;
    private readonly nint stream;
    private readonly nint start;
    private readonly nint end;

    public CudaTimer(CudaStream stream)
        : this((stream ?? throw new ArgumentNullException(nameof(stream))).Device, stream.Handle)
    {
    }

    private CudaTimer(int device, nint stream)
    {
        this.device = device;
        this.stream = stream;
        CudaDriver.MakeCurrent(device);
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
        using var timer = new CudaTimer(device, CaptureStream.For(device));
        timer.Start();
        work();
        return timer.StopMilliseconds();
    }

    public void Start() => CudaDriver.Check(DriverApi.cuEventRecord(start, stream), "cuEventRecord");

    /// <summary>Records the end, waits for it, and returns the milliseconds between the two events.</summary>
    public float StopMilliseconds()
    {
        CudaDriver.Check(DriverApi.cuEventRecord(end, stream), "cuEventRecord");
        CudaDriver.Check(DriverApi.cuEventSynchronize(end), "cuEventSynchronize");
        CudaDriver.Check(DriverApi.cuEventElapsedTime(out float milliseconds, start, end), "cuEventElapsedTime");
        return milliseconds;
    }

    public void Dispose()
    {
        CudaDriver.MakeCurrent(device);
        CudaDriver.Check(DriverApi.cuEventDestroy(start), "cuEventDestroy");
        CudaDriver.Check(DriverApi.cuEventDestroy(end), "cuEventDestroy");
    }
}
