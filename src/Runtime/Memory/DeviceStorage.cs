using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Memory;

/// <summary>GPU memory of one CUDA device, allocated in its primary context.</summary>
public sealed unsafe class DeviceStorage : Storage
{
    private DeviceStorage(Device device, ulong pointer, long byteLength)
        : base(byteLength, device) => DevicePointer = pointer;

    public ulong DevicePointer { get; }

    public static DeviceStorage Allocate(Device device, long byteLength)
    {
        if (device.IsCpu)
            throw new ArgumentException("DeviceStorage holds GPU memory; use HostStorage for the CPU", nameof(device));
        CudaDriver.MakeCurrent(device.Index);
        int status = DeviceMemory.Allocate(device.Index, (nuint)Math.Max(byteLength, 1), out ulong pointer);
        if (status == OutOfMemoryStatus)
            throw new OutOfMemoryException($"{device}: out of GPU memory allocating {byteLength:N0} bytes");
        CudaDriver.Check(status, "cuMemAllocAsync");
        return new DeviceStorage(device, pointer, byteLength);
    }

    private const int OutOfMemoryStatus = 2;

    /// <summary>
    /// Copies from the host (the source may be reused on return). Beside the main stream (<see cref="StreamFork"/>), where
    /// memory is allocated in the side stream's order, the copy is queued there too and waited for: the driver documents
    /// no promise that an asynchronous copy from pageable memory has read it on return. (Such uploads are a first step's
    /// filling of caches: a captured step may not have any.)
    /// </summary>
    internal void CopyFromHost(byte* source, long byteOffset, long bytes)
    {
        int device = Device.Index;
        CaptureStream.Refuse(device, "a copy from the host");
        CudaDriver.MakeCurrent(device);
        ulong destination = DevicePointer + (ulong)byteOffset;
        if (CaptureStream.Beside(device))
        {
            nint side = CaptureStream.For(device);
            CudaDriver.Check(DriverApi.cuMemcpyHtoDAsync(destination, source, (nuint)bytes, side), "cuMemcpyHtoDAsync");
            CudaDriver.Check(DriverApi.cuStreamSynchronize(side), "cuStreamSynchronize");
        }
        else
            CudaDriver.Check(DriverApi.cuMemcpyHtoD(destination, source, (nuint)bytes), "cuMemcpyHtoD");
    }

    internal void CopyToHost(long byteOffset, byte* destination, long bytes)
    {
        CaptureStream.RefuseHostCopy(Device.Index, "a copy to the host");
        CudaDriver.MakeCurrent(Device.Index);
        CudaDriver.Check(DriverApi.cuMemcpyDtoH(destination, DevicePointer + (ulong)byteOffset, (nuint)bytes), "cuMemcpyDtoH");
    }

    internal void CopyFromDevice(DeviceStorage source, long sourceByteOffset, long byteOffset, long bytes)
    {
        CudaDriver.MakeCurrent(Device.Index);
        CudaDriver.Check(DriverApi.cuMemcpyDtoDAsync(DevicePointer + (ulong)byteOffset, source.DevicePointer + (ulong)sourceByteOffset, (nuint)bytes,
            CaptureStream.For(Device.Index)), "cuMemcpyDtoDAsync");
    }

    /// <summary>Sets <paramref name="bytes"/> bytes from <paramref name="byteOffset"/> on to zero.</summary>
    internal void Clear(long byteOffset, long bytes)
    {
        CudaDriver.MakeCurrent(Device.Index);
        CudaDriver.Check(DriverApi.cuMemsetD8Async(DevicePointer + (ulong)byteOffset, 0, (nuint)bytes, CaptureStream.For(Device.Index)), "cuMemsetD8Async");
    }

    protected override void Free()
    {
        CudaDriver.MakeCurrent(Device.Index);
        CudaDriver.Check(DeviceMemory.Free(Device.Index, DevicePointer), "cuMemFreeAsync");
    }
}
