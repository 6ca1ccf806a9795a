using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Cuda;

/// <summary>What a launcher needs of a CUDA tensor: the device address of its first element.</summary>
internal static class DeviceTensors
{
    public static ulong Address(Tensor tensor) => tensor.Storage is DeviceStorage storage
        ? storage.DevicePointer + (ulong)(tensor.Offset * tensor.DType.SizeOf())
        : throw new ArgumentException($"{tensor} is not a CUDA tensor");

    /// <summary>0 (a null device pointer) for an absent optional tensor, as the kernels expect.</summary>
    public static ulong AddressOrNull(Tensor? tensor) => tensor is null ? 0 : Address(tensor);

    /// <summary>The CUDA paths take contiguous f32 tensors that all live on one device; returns its ordinal.</summary>
    public static int Require(string op, params ReadOnlySpan<Tensor> tensors)
    {
        int device = tensors[0].Device.Index;
        foreach (Tensor tensor in tensors)
        {
            if (tensor.Device.IsCpu || tensor.Device.Index != device)
                throw new ArgumentException($"{op}: {tensor} is not on cuda:{device} like the first input");
            if (tensor.DType != DType.F32 || !tensor.IsContiguous)
                throw new ArgumentException($"{op}: {tensor} must be a contiguous f32 tensor");
        }
        return device;
    }
}
