using System.Runtime.InteropServices;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;

namespace ReClip.Runtime.Tensors;

/// <summary>Element copies between tensors of the same shape and dtype: strided on the CPU, contiguous across devices.</summary>
internal static unsafe class TensorCopy
{
    public static void Strided(Tensor source, Tensor destination)
    {
        Shape.Require("copy", source.Shape, destination.Shape);
        if (source.DType != destination.DType)
            throw new InvalidOperationException($"copy: dtype {source.DType.Name()} does not match {destination.DType.Name()}");
        if (!source.Device.IsCpu || !destination.Device.IsCpu)
        {
            if (source.IsContiguous && destination.IsContiguous)
                AcrossDevices(source, destination);
            else
                ThroughHost(source, destination);
            return;
        }

        int elementSize = source.DType.SizeOf();
        if (source.IsContiguous && destination.IsContiguous)
        {
            Buffer.MemoryCopy(source.RawPointer, destination.RawPointer, destination.ByteLength, source.ByteLength);
            return;
        }
        CopyDimension(source.RawPointer, source.Strides, destination.RawPointer, destination.Strides, source.Shape, 0, elementSize);
    }

    public static void AcrossDevices(Tensor source, Tensor destination)
    {
        long bytes = source.ByteLength;
        if (bytes != destination.ByteLength)
            throw new InvalidOperationException($"copy: {bytes} bytes do not fit {destination.ByteLength}");
        if (bytes == 0) return;
        switch (source.Storage, destination.Storage)
        {
            case (HostStorage, HostStorage):
                Buffer.MemoryCopy(source.RawPointer, destination.RawPointer, bytes, bytes);
                break;
            case (HostStorage, DeviceStorage device):
                device.CopyFromHost(source.RawPointer, DeviceOffset(destination), bytes);
                break;
            case (DeviceStorage device, HostStorage):
                device.CopyToHost(DeviceOffset(source), destination.RawPointer, bytes);
                break;
            case (DeviceStorage from, DeviceStorage to):
                to.CopyFromDevice(from, DeviceOffset(source), DeviceOffset(destination), bytes);
                break;
            default:
                throw new NotSupportedException($"copy: from {source.Storage.GetType().Name} to {destination.Storage.GetType().Name}");
        }
    }

    private static long DeviceOffset(Tensor tensor) => tensor.Offset * tensor.DType.SizeOf();

    /// <summary>
    /// A strided copy with a GPU on either side: each GPU side's covering span (first to last element it
    /// touches) is staged in host memory, the elements are copied there, and the destination's span goes
    /// back. Only for reading or filling views (checks, results): the kernels take their operands' strides
    /// themselves, so no step of the pipeline copies views on a GPU.
    /// </summary>
    private static void ThroughHost(Tensor source, Tensor destination)
    {
        if (source.ElementCount == 0)
            return;
        int elementSize = source.DType.SizeOf();
        using var from = HostSpan.Of(source, elementSize, download: true);
        using var to = HostSpan.Of(destination, elementSize, download: !destination.IsContiguous);
        CopyDimension(from.First, source.Strides, to.First, destination.Strides, source.Shape, 0, elementSize);
        to.UploadIfDevice();
    }

    /// <summary>A tensor's covering span in host memory: the tensor's own memory on the CPU, a staged copy of a GPU's.</summary>
    private readonly struct HostSpan : IDisposable
    {
        private readonly DeviceStorage? device;
        private readonly long deviceOffset, bytes;
        private readonly byte* staged;

        private HostSpan(byte* first, DeviceStorage? device, long deviceOffset, long bytes, byte* staged)
        {
            First = first;
            this.device = device;
            this.deviceOffset = deviceOffset;
            this.bytes = bytes;
            this.staged = staged;
        }

        /// <summary>Where element (0, …, 0) lies in host memory.</summary>
        public byte* First { get; }

        public static HostSpan Of(Tensor tensor, int elementSize, bool download)
        {
            if (tensor.Storage is not DeviceStorage device)
                return new HostSpan((byte*)tensor.RawPointer, null, 0, 0, null);
            long lastElement = 0;
            for (int d = 0; d < tensor.Shape.Length; d++)
                lastElement += (tensor.Shape[d] - 1) * tensor.Strides[d];
            long bytes = (lastElement + 1) * elementSize;
            byte* staged = (byte*)NativeMemory.Alloc((nuint)bytes);
            try
            {
                if (download)
                    device.CopyToHost(DeviceOffset(tensor), staged, bytes);
            }
            catch
            {
                // A copy the device refused (a capture in progress, a lost device): the staging goes back.
                NativeMemory.Free(staged);
                throw;
            }
            return new HostSpan(staged, device, DeviceOffset(tensor), bytes, staged);
        }

        public void UploadIfDevice() => device?.CopyFromHost(staged, deviceOffset, bytes);

        public void Dispose()
        {
            if (staged is not null)
                NativeMemory.Free(staged);
        }
    }

    private static void CopyDimension(byte* src, ReadOnlySpan<long> srcStrides, byte* dst, ReadOnlySpan<long> dstStrides,
        ReadOnlySpan<int> shape, int dim, int elementSize)
    {
        long srcStep = srcStrides[dim] * elementSize, dstStep = dstStrides[dim] * elementSize;
        if (dim == shape.Length - 1)
        {
            for (int i = 0; i < shape[dim]; i++)
                Buffer.MemoryCopy(src + i * srcStep, dst + i * dstStep, elementSize, elementSize);
            return;
        }
        for (int i = 0; i < shape[dim]; i++)
            CopyDimension(src + i * srcStep, srcStrides, dst + i * dstStep, dstStrides, shape, dim + 1, elementSize);
    }
}
