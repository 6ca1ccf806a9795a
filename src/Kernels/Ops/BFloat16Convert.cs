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

    /// <summary>Every value replaced by the float32 value of its bfloat16 rounding.</summary>
    public static void Round(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)(BFloat16)values[i];
    }

    /// <summary>A copy of the values, each rounded as <see cref="Round"/> does.</summary>
    public static float[] Rounded(ReadOnlySpan<float> values)
    {
        float[] copy = values.ToArray();
        Round(copy);
        return copy;
    }

    /// <summary>
    /// A contiguous float32 copy of x (CPU, any strides) with every value rounded to bfloat16, for the caller to dispose;
    /// a bfloat16 x is widened (exactly).
    /// </summary>
    public static Tensor RoundedCopy(Tensor x)
    {
        if (!x.Device.IsCpu || (x.DType != DType.F32 && x.DType != DType.BF16))
            throw new ArgumentException($"BFloat16Convert.RoundedCopy: {x} is not float32 or bfloat16 on the CPU");
        if (x.DType == DType.BF16)
            return Tensor.FromSpan<float>(x.ToFloatArray(), x.Shape);
        Tensor copy = x.Clone();
        Round(copy.AsSpan<float>());
        return copy;
    }

    /// <summary>
    /// The CPU form of an op whose output may be bfloat16 (on a GPU its kernel stores bfloat16 where the output only feeds
    /// a bfloat16 GEMM): <paramref name="computeFloat32"/> writes y itself when y is float32, else a float32 scratch of
    /// y's shape that is then rounded into y.
    /// </summary>
    public static void ThroughFloat32(Tensor y, Action<Tensor> computeFloat32)
    {
        if (y.DType != DType.BF16)
        {
            computeFloat32(y);
            return;
        }
        using Tensor scratch = Tensor.Empty(y.Shape, DType.F32);
        computeFloat32(scratch);
        Forward(scratch, y);
    }

    /// <summary>y (f32) = the float32 value of x's bfloat16 rounding (x f32, same shape), on the device of y.</summary>
    public static void RoundInto(Tensor x, Tensor y)
    {
        if (OnGpu("BFloat16Convert.RoundInto", x, y, DType.F32))
        {
            RoundIntoCuda(x, y);
            return;
        }
        x.AsSpan<float>().CopyTo(y.AsSpan<float>());
        Round(y.AsSpan<float>());
    }

    /// <summary>y (bf16) = x (f32), same shape, on the device of y.</summary>
    public static void Forward(Tensor x, Tensor y)
    {
        if (OnGpu("BFloat16Convert", x, y, DType.BF16))
        {
            ForwardCuda(x, y);
            return;
        }
        Reference(x.AsSpan<float>(), y.AsSpan<BFloat16>());
    }

    /// <summary>Whether y is on a GPU (the launcher checks the rest there); on the CPU, that x is f32 and y of <paramref name="output"/>.</summary>
    private static bool OnGpu(string op, Tensor x, Tensor y, DType output)
    {
        Shape.Require(op, x.Shape, y.Shape);
        if (!y.Device.IsCpu)
            return true;
        OpGuard.Cpu(op, x);
        OpGuard.Cpu(op, output, y);
        return false;
    }
}
