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
            {
                AcrossDevices(source, destination);
                return;
            }
            throw new NotSupportedException($"copy: strided {source.Device} tensors are copied through the CPU; call ToDevice(Device.Cpu) first");
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
