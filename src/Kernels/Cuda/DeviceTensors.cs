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

    /// <summary>The optional tensors of a call that are there, for <see cref="Require(string, ReadOnlySpan{Tensor})"/> to check with the rest.</summary>
    public static Tensor[] Present(params ReadOnlySpan<Tensor?> tensors)
    {
        var present = new List<Tensor>(tensors.Length);
        foreach (Tensor? tensor in tensors)
            if (tensor is not null) present.Add(tensor);
        return [.. present];
    }

    /// <summary>The CUDA paths take contiguous f32 tensors that all live on one device; returns its ordinal.</summary>
    public static int Require(string op, params ReadOnlySpan<Tensor> tensors) => Require(op, DType.F32, tensors);

    /// <summary>The same for tensors of another element type (i32 label maps and class indices); returns the device ordinal.</summary>
    public static int Require(string op, DType dtype, params ReadOnlySpan<Tensor> tensors)
    {
        int device = tensors[0].Device.Index;
        foreach (Tensor tensor in tensors)
        {
            if (tensor.Device.IsCpu || tensor.Device.Index != device)
                throw new ArgumentException($"{op}: {tensor} is not on cuda:{device} like the first input");
            if (tensor.DType != dtype || !tensor.IsContiguous)
                throw new ArgumentException($"{op}: {tensor} must be a contiguous {dtype.Name()} tensor");
        }
        return device;
    }

    /// <summary>
    /// An output that may be float32 or, where it only feeds a bfloat16 GEMM, bfloat16: contiguous on
    /// <paramref name="device"/>. Returns whether it is bfloat16, for the launcher to pick the kernel that stores so.
    /// </summary>
    public static bool RequireFloat32OrBFloat16(string op, Tensor output, int device)
    {
        bool bfloat16 = output.DType == DType.BF16;
        if (Require(op, bfloat16 ? DType.BF16 : DType.F32, [output]) != device)
            throw new ArgumentException($"{op}: {output} is not on cuda:{device} like the input");
        return bfloat16;
    }

    /// <summary>A host-side list (class ids, gather indices, resize taps) copied onto <paramref name="device"/>, for the kernel that reads it.</summary>
    public static Tensor Upload<T>(ReadOnlySpan<T> values, Device device) where T : unmanaged
    {
        // An empty list still gets one element, so the kernel receives a valid (unread) pointer.
        using Tensor host = values.IsEmpty ? Tensor.Zeros([1], DTypeInfo.Of<T>()) : Tensor.FromSpan(values, [values.Length]);
        return host.ToDevice(device);
    }

    /// <summary>A tensor whose two 32-bit elements a kernel reads as one 64-bit value (a double, a 64-bit integer) must start on an 8-byte boundary.</summary>
    public static void RequireAligned8(string op, Tensor tensor)
    {
        if (Address(tensor) % 8 != 0)
            throw new ArgumentException($"{op}: {tensor} holds a 64-bit value but does not start on an 8-byte boundary");
    }

    /// <summary>1 when every tensor starts on a 16-byte boundary, so the kernels may load float4 vectors; else 0.</summary>
    public static int Aligned16(params ReadOnlySpan<Tensor> tensors)
    {
        foreach (Tensor tensor in tensors)
            if (Address(tensor) % 16 != 0)
                return 0;
        return 1;
    }
}
