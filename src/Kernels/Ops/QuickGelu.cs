using System.Runtime.Intrinsics;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// QuickGELU, OpenAI CLIP's MLP activation (spec §4.2): y = x·σ(1.702·x), σ the logistic sigmoid.
/// Backward: dx = dy·(s + 1.702·x·s·(1 − s)) with s = σ(1.702·x).
/// It runs on the [tokens, 3072] hidden activations of every CLIP MLP, so the fast path is a single fused
/// SIMD pass, and it may run in place right after the fc GEMM. The backward needs the pre-activation x:
/// a caller that activates in place and later differentiates keeps a copy of x.
/// </summary>
public static partial class QuickGelu
{
    /// <summary>CLIP's constant, σ(1.702·x) ≈ Φ(x). PyTorch casts the Python scalar to float32, so this is 1.702f exactly.</summary>
    public const float Alpha = 1.702f;

    /// <summary>The definition, in double precision. x, y: any length; y may be x.</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = (float)(x[i] * Sigmoid(Alpha * (double)x[i]));
    }

    /// <summary>The definition of the backward pass, in double precision: dx = dy·(s + α·x·s·(1 − s)).</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double s = Sigmoid(Alpha * (double)x[i]);
            dx[i] = (float)(dy[i] * (s + Alpha * (double)x[i] * s * (1 - s)));
        }
    }

    /// <summary>
    /// y = x·σ(1.702·x). <paramref name="y"/> may be <paramref name="x"/> itself (not another overlapping view), or bfloat16
    /// (rounded from the float32 result) when it only feeds a bfloat16 linear; x may be bfloat16 too (a GEMM's bfloat16
    /// output), with a bfloat16 y.
    /// </summary>
    public static void Forward(Tensor x, Tensor y)
    {
        Shape.Require("QuickGelu", x.Shape, y.Shape);
        if (x.DType == DType.BF16 && y.DType != DType.BF16)
            throw new ArgumentException($"QuickGelu: a bfloat16 input {x} gives a bfloat16 output, not {y}");
        if (!x.Device.IsCpu)
        {
            ForwardCuda(x, y);
            return;
        }
        if (y.DType == DType.BF16)
        {
            using Tensor? widened = x.DType == DType.BF16 ? BFloat16Convert.RoundedCopy(x) : null;
            BFloat16Convert.ThroughFloat32(y, scratch => Forward(widened ?? x, scratch));
            return;
        }
        OpGuard.Cpu("QuickGelu", x, y);
        unsafe
        {
            nint ax = (nint)x.Pointer<float>(), ay = (nint)y.Pointer<float>();
            ElementChunks.For(x.ElementCount, (start, end) => ForwardRange((float*)ax + start, (float*)ay + start, end - start));
        }
    }

    /// <summary>x ← x·σ(1.702·x), e.g. on the fc GEMM's output.</summary>
    public static void ForwardInPlace(Tensor x) => Forward(x, x);

    /// <summary>dx from dy and the pre-activation x. <paramref name="dx"/> may be <paramref name="dy"/> (or x) itself.</summary>
    public static void Backward(Tensor dy, Tensor x, Tensor dx)
    {
        Shape.Require("QuickGelu.Backward dy", x.Shape, dy.Shape);
        Shape.Require("QuickGelu.Backward", x.Shape, dx.Shape);
        if (!x.Device.IsCpu)
        {
            BackwardCuda(dy, x, dx);
            return;
        }
        OpGuard.Cpu("QuickGelu.Backward", dy, x, dx);
        unsafe
        {
            nint ady = (nint)dy.Pointer<float>(), ax = (nint)x.Pointer<float>(), adx = (nint)dx.Pointer<float>();
            ElementChunks.For(x.ElementCount, (start, end) =>
                BackwardRange((float*)ady + start, (float*)ax + start, (float*)adx + start, end - start));
        }
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    // x·σ(αx) = x / (1 + e^(−αx)): one division instead of a reciprocal and a product. For x → −∞ the
    // exponential overflows to +∞ and y = x/∞ = −0, the limit; for x → +∞ it underflows to 0 and y = x.
    // Each element is read before it is written, so y may alias x; the tail stays scalar for the same reason
    // (an overlapping last vector would re-activate elements already written in place). 256-bit vectors, as
    // VectorExp explains.
    private static unsafe void ForwardRange(float* x, float* y, long count)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> v = Vector256.Load(x + i);
                Vector256.Store(v / (Vector256<float>.One + VectorExp.Exp(v * -Alpha)), y + i);
            }
        }
        for (; i < count; i++)
            y[i] = x[i] / (1 + MathF.Exp(-Alpha * x[i]));
    }

    // s·(1 + αx·(1 − s)) keeps 1 − s rather than e·s (e = e^(−αx)): at x → −∞, e = ∞ and s = 0, and e·s would be NaN.
    private static unsafe void BackwardRange(float* dy, float* x, float* dx, long count)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> v = Vector256.Load(x + i), one = Vector256<float>.One;
                Vector256<float> s = one / (one + VectorExp.Exp(v * -Alpha));
                Vector256.Store(Vector256.Load(dy + i) * s * (one + v * Alpha * (one - s)), dx + i);
            }
        }
        for (; i < count; i++)
        {
            float s = 1 / (1 + MathF.Exp(-Alpha * x[i]));
            dx[i] = dy[i] * s * (1 + x[i] * Alpha * (1 - s));
        }
    }
}
