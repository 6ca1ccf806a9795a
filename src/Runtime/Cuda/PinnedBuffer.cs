using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// Page-locked host memory for the inputs a GPU reads every step: a copy from it to the device is queued like a kernel
/// and the host goes on, where a copy from ordinary (pageable) memory first waits for all the work queued before it.
/// The host must not rewrite the buffer until the copies it queued have run; a step's later wait for its results (its
/// loss) ensures that.
/// </summary>
public sealed unsafe class PinnedBuffer : IDisposable
{
    private readonly int device;
    private nint pointer;

    public PinnedBuffer(int device, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        this.device = device;
        Bytes = bytes;
        CudaDriver.MakeCurrent(device);
        CudaDriver.Check(DriverApi.cuMemHostAlloc(out pointer, (nuint)Math.Max(bytes, 1), 0), "cuMemHostAlloc");
    }

    public long Bytes { get; }

    /// <summary>
    /// Copies <paramref name="source"/> (host, contiguous) into this buffer, then queues its copy into
    /// <paramref name="destination"/> (contiguous, on this buffer's device, the same byte length) on the stream the
    /// runtime queues to.
    /// </summary>
    public void Upload(Tensor source, Tensor destination)
    {
        ObjectDisposedException.ThrowIf(pointer == 0, this);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (!source.Device.IsCpu || !source.IsContiguous || destination.Storage is not DeviceStorage storage || destination.Device.Index != device
            || !destination.IsContiguous || source.DType != destination.DType || source.ByteLength != destination.ByteLength || source.ByteLength > Bytes)
            throw new ArgumentException($"PinnedBuffer: {source} cannot go through {Bytes} pinned bytes into {destination} on cuda:{device}");
        Buffer.MemoryCopy(source.RawPointer, (void*)pointer, Bytes, source.ByteLength);
        CudaDriver.MakeCurrent(device);
        CudaDriver.Check(DriverApi.cuMemcpyHtoDAsync(storage.DevicePointer + (ulong)(destination.Offset * destination.DType.SizeOf()), (void*)pointer,
            (nuint)source.ByteLength, CaptureStream.For(device)), "cuMemcpyHtoDAsync");
    }

    public void Dispose()
    {
        if (pointer == 0) return;
        CudaDriver.MakeCurrent(device);
        // The copies queued from it must have run: wait for the legacy stream they went to.
        CudaDriver.Check(DriverApi.cuStreamSynchronize(0), "cuStreamSynchronize");
        CudaDriver.Check(DriverApi.cuMemFreeHost(pointer), "cuMemFreeHost");
        pointer = 0;
    }
}
