using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>The preconditions the CPU paths of the ops share: contiguous float32 tensors in host memory.</summary>
internal static class OpGuard
{
    public static void Cpu(string op, params ReadOnlySpan<Tensor> tensors)
    {
        foreach (Tensor tensor in tensors)
        {
            if (!tensor.Device.IsCpu)
                throw new NotSupportedException($"{op}: {tensor} is on {tensor.Device}; this op runs on CPU tensors");
            if (tensor.DType != DType.F32)
                throw new ArgumentException($"{op}: {tensor} holds {tensor.DType.Name()}; this op computes on f32");
            if (!tensor.IsContiguous)
                throw new ArgumentException($"{op}: {tensor} is a strided view; pass a contiguous tensor");
        }
    }
}
