using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Rectified logits (spec §5–6): Rect[b,n,c] = Q[b,n,c] − Bias[n,c] with Bias = P·Rᵀ, where
/// P [N,E] is the projected positional map (one for the whole batch), R [C,E] the Frobenius-normalised
/// Reference features and Q [B,N,C] the Query logits. Q is constant (it comes from the frozen ViT), so
/// the backward pass gives only dP = −Σ_b dRect[b]·R and dR = −Σ_b dRect[b]ᵀ·P.
/// </summary>
public static partial class Rectify
{
    /// <summary>The definition, summing in double. q, rect: [B·N·C]; p: [N·E]; r: [C·E].</summary>
    public static void Reference(ReadOnlySpan<float> q, ReadOnlySpan<float> p, ReadOnlySpan<float> r, Span<float> rect, int patches, int classes)
    {
        int width = p.Length / patches, batch = q.Length / (patches * classes);
        for (int n = 0; n < patches; n++)
            for (int c = 0; c < classes; c++)
            {
                double bias = 0;
                for (int e = 0; e < width; e++)
                    bias += (double)p[n * width + e] * r[c * width + e];
                for (int b = 0; b < batch; b++)
                {
                    int at = (b * patches + n) * classes + c;
                    rect[at] = (float)(q[at] - bias);
                }
            }
    }

    /// <summary>The definition of the backward pass: with G = Σ_b dRect[b] ([N,C]), dP = −G·R and dR = −Gᵀ·P.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dRect, ReadOnlySpan<float> p, ReadOnlySpan<float> r, Span<float> dp, Span<float> dr,
        int patches, int classes)
    {
        int width = p.Length / patches, batch = dRect.Length / (patches * classes);
        double[] summed = new double[patches * classes];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < summed.Length; i++)
                summed[i] += dRect[b * summed.Length + i];
        for (int n = 0; n < patches; n++)
            for (int e = 0; e < width; e++)
            {
                double sum = 0;
                for (int c = 0; c < classes; c++)
                    sum += summed[n * classes + c] * r[c * width + e];
                dp[n * width + e] = (float)-sum;
            }
        for (int c = 0; c < classes; c++)
            for (int e = 0; e < width; e++)
            {
                double sum = 0;
                for (int n = 0; n < patches; n++)
                    sum += summed[n * classes + c] * p[n * width + e];
                dr[c * width + e] = (float)-sum;
            }
    }

    /// <summary>rect [B,N,C] = q [B,N,C] − p [N,E]·r [C,E]ᵀ. <paramref name="rect"/> must not share memory with q.</summary>
    public static unsafe void Forward(Tensor q, Tensor p, Tensor r, Tensor rect)
    {
        (int batch, int patches, int classes, int width) = Sizes("Rectify", q, p, r);
        Shape.Require("Rectify rect", q.Shape, rect.Shape);
        if (ReferenceEquals(q.Storage, rect.Storage))
            throw new ArgumentException($"Rectify: rect {rect} shares storage with q; the bias is built in rect before q is read", nameof(rect));
        if (!q.Device.IsCpu)
        {
            ForwardCuda(q, p, r, rect, batch, patches, classes, width);
            return;
        }
        OpGuard.Cpu("Rectify", q, p, r, rect);
        if (batch == 0 || patches == 0 || classes == 0) return;
        float* pq = q.Pointer<float>(), pp = p.Pointer<float>(), pr = r.Pointer<float>(), output = rect.Pointer<float>();
        long plane = (long)patches * classes;
        // The bias is computed once into rect[0] (no scratch), then subtracted from every image's Q:
        // images 1..B−1 first, image 0 last, because rect[0] holds the bias until then.
        Sgemm.Multiply(patches, classes, width, 1, new GemmOperand(pp, width, false), new GemmOperand(pr, width, true), 0, output, classes);
        var bias = new ReadOnlySpan<float>(output, (int)plane);
        for (int b = batch - 1; b >= 1; b--)
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(pq + b * plane, (int)plane), bias, new Span<float>(output + b * plane, (int)plane));
        TensorPrimitives.Subtract(new ReadOnlySpan<float>(pq, (int)plane), bias, new Span<float>(output, (int)plane));
    }

    /// <summary>dp [N,E] = −Σ_b dRect[b]·r and dr [C,E] = −Σ_b dRect[b]ᵀ·p; either may be skipped (null).</summary>
    public static unsafe void Backward(Tensor dRect, Tensor p, Tensor r, Tensor? dp, Tensor? dr)
    {
        (int batch, int patches, int classes, int width) = Sizes("Rectify.Backward", dRect, p, r);
        if (dp is not null)
            Shape.Require("Rectify.Backward dp", p.Shape, dp.Shape);
        if (dr is not null)
            Shape.Require("Rectify.Backward dr", r.Shape, dr.Shape);
        if (!dRect.Device.IsCpu)
        {
            BackwardCuda(dRect, p, r, dp, dr, batch, patches, classes, width);
            return;
        }
        OpGuard.Cpu("Rectify.Backward", dRect, p, r);
        if (dp is not null) OpGuard.Cpu("Rectify.Backward dp", dp);
        if (dr is not null) OpGuard.Cpu("Rectify.Backward dr", dr);
        float* pg = dRect.Pointer<float>(), pp = p.Pointer<float>(), pr = r.Pointer<float>();
        float* pdp = dp is null ? null : dp.Pointer<float>(), pdr = dr is null ? null : dr.Pointer<float>();
        if (batch == 0 || patches == 0 || classes == 0)
        {
            // An empty sum: the gradients are zero (Sgemm with K = 0 would do the same; this is explicit).
            if (dp is not null) dp.AsSpan<float>().Clear();
            if (dr is not null) dr.AsSpan<float>().Clear();
            return;
        }
        long plane = (long)patches * classes;
        // Σ_b is folded into the GEMMs (beta = 1 after the first image), so no [N,C] sum is materialised.
        for (int b = 0; b < batch; b++)
        {
            float beta = b == 0 ? 0 : 1;
            float* image = pg + b * plane;
            if (pdp is not null)
                Sgemm.Multiply(patches, width, classes, -1, new GemmOperand(image, classes, false), new GemmOperand(pr, width, false), beta, pdp, width);
            if (pdr is not null)
                Sgemm.Multiply(classes, width, patches, -1, new GemmOperand(image, classes, true), new GemmOperand(pp, width, false), beta, pdr, width);
        }
    }

    /// <summary>Checks q/dRect [B,N,C] against p [N,E] and r [C,E]; returns (B, N, C, E).</summary>
    private static (int Batch, int Patches, int Classes, int Width) Sizes(string op, Tensor q, Tensor p, Tensor r)
    {
        if (q.Rank != 3 || p.Rank != 2 || r.Rank != 2)
            throw new TensorShapeException($"{op}: expected logits [B,N,C], positional map [N,E] and reference [C,E]; got {Shape.Format(q.Shape)}, {Shape.Format(p.Shape)}, {Shape.Format(r.Shape)}");
        int batch = q.Size(0), patches = q.Size(1), classes = q.Size(2), width = p.Size(1);
        Shape.Require(op + " positional map", [patches, width], p.Shape);
        Shape.Require(op + " reference", [classes, width], r.Shape);
        return (batch, patches, classes, width);
    }
}
