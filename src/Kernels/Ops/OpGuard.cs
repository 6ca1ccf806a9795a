using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The preconditions the CPU paths of the ops share: contiguous float32 tensors in host memory.</summary>
internal static class OpGuard
{
    public static void Cpu(string op, params ReadOnlySpan<Tensor> tensors) => Cpu(op, DType.F32, tensors);

    /// <summary>The same preconditions for tensors of another element type, e.g. i32 label maps and class indices.</summary>
    public static void Cpu(string op, DType dtype, params ReadOnlySpan<Tensor> tensors)
    {
        foreach (Tensor tensor in tensors)
        {
            if (!tensor.Device.IsCpu)
                throw new NoKernelException($"{op}: {tensor} is on {tensor.Device}; this op has no kernel there yet");
            if (tensor.DType != dtype)
                throw new ArgumentException($"{op}: {tensor} holds {tensor.DType.Name()}; this op computes on {dtype.Name()}");
            if (!tensor.IsContiguous)
                throw new ArgumentException($"{op}: {tensor} is a strided view; pass a contiguous tensor");
        }
    }
}

/// <summary>An op was called on a device for which it has no kernel (yet); the self-checks report it as missing, not failed.</summary>
public sealed class NoKernelException(string message) : NotSupportedException(message);
