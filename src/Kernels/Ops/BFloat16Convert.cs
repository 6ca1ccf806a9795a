using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// float32 → bfloat16, rounded to nearest even (<see cref="BFloat16"/>): the activations that go into a bfloat16 GEMM
/// when a tower's linear weights are stored in bfloat16 on a GPU (fp32 accumulation; <see cref="MatMul.Linear"/>).
/// </summary>
public static partial class BFloat16Convert
{
    /// <summary>The definition: y[i] = (bfloat16)x[i].</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<BFloat16> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (BFloat16)x[i];
    }

    /// <summary>y (bf16) = x (f32), same shape, on the device of y.</summary>
    public static void Forward(Tensor x, Tensor y)
    {
        Shape.Require("BFloat16Convert", x.Shape, y.Shape);
        if (!y.Device.IsCpu)
        {
            ForwardCuda(x, y);
            return;
        }
        OpGuard.Cpu("BFloat16Convert", x);
        OpGuard.Cpu("BFloat16Convert", DType.BF16, y);
        Reference(x.AsSpan<float>(), y.AsSpan<BFloat16>());
    }
}
