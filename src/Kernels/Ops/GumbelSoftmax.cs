using System.Runtime.InteropServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Kernels.Random;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Hard Gumbel-softmax with the straight-through gradient over the class dimension (spec §6 step 5,
/// PyTorch's <c>F.gumbel_softmax(scale·O, tau, hard=True)</c>): per row of the logits O [rows, C],
/// z = (scale·O + g)/τ with Gumbel noise g = −log(−log U); y_soft = softmax(z); y_hard = one-hot of the
/// first maximum of y_soft; mask = (y_hard − y_soft) + y_soft, evaluated in that order as PyTorch does, so
/// it is y_hard up to rounding while its gradient is y_soft's. ReCLIP++ uses scale 100 and τ = 1.
/// Backward: dO = (scale/τ)·y_soft ⊙ (dmask − Σ_c dmask ⊙ y_soft); the forward saves y_soft for it.
/// U comes from <see cref="Philox"/> keyed by (seed, stream, flat element index row·C + c); an overload takes
/// the noise explicitly for parity with PyTorch, whose generator we cannot reproduce.
/// </summary>
public static partial class GumbelSoftmax
{
    public const float DefaultScale = 100, DefaultTau = 1;

    /// <summary>Gumbel noise g = −log(−log U) for elements firstIndex.. of (seed, stream); finite because U ∈ (0, 1).</summary>
    public static void Noise(ulong seed, ulong stream, ulong firstIndex, Span<float> noise)
    {
        Philox.FillUniform(seed, stream, firstIndex, noise);
        TensorPrimitives.Log(noise, noise);
        TensorPrimitives.Negate(noise, noise);
        TensorPrimitives.Log(noise, noise);
        TensorPrimitives.Negate(noise, noise);
    }

    /// <summary>
    /// The definition: z is formed in float32 exactly as PyTorch forms it (scale·O, + g, / τ, each rounded),
    /// the softmax is taken in double. logits, noise, mask, ySoft: [rows·C].
    /// </summary>
    public static void Reference(ReadOnlySpan<float> logits, ReadOnlySpan<float> noise, Span<float> mask, Span<float> ySoft, int classes,
        float scale = DefaultScale, float tau = DefaultTau)
    {
        int rows = classes == 0 ? 0 : logits.Length / classes;
        double[] z = new double[classes];
        for (int r = 0; r < rows; r++)
        {
            int row = r * classes;
            double max = double.NegativeInfinity, sum = 0;
            for (int c = 0; c < classes; c++)
            {
                z[c] = (scale * logits[row + c] + noise[row + c]) / tau;
                max = Math.Max(max, z[c]);
            }
            for (int c = 0; c < classes; c++)
                sum += Math.Exp(z[c] - max);
            int hard = 0;
            for (int c = 0; c < classes; c++)
            {
                ySoft[row + c] = (float)(Math.Exp(z[c] - max) / sum);
                if (ySoft[row + c] > ySoft[row + hard]) hard = c;
            }
            for (int c = 0; c < classes; c++)
                mask[row + c] = ((c == hard ? 1f : 0f) - ySoft[row + c]) + ySoft[row + c];
        }
    }

    /// <summary>The definition of the straight-through backward pass, in double.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dMask, ReadOnlySpan<float> ySoft, Span<float> dLogits, int classes,
        float scale = DefaultScale, float tau = DefaultTau)
    {
        int rows = classes == 0 ? 0 : dMask.Length / classes;
        for (int r = 0; r < rows; r++)
        {
            int row = r * classes;
            double dot = 0;
            for (int c = 0; c < classes; c++)
                dot += (double)dMask[row + c] * ySoft[row + c];
            for (int c = 0; c < classes; c++)
                dLogits[row + c] = (float)((double)scale / tau * ySoft[row + c] * (dMask[row + c] - dot));
        }
    }

    /// <summary>mask and ySoft (same shape as logits, classes last) from logits and explicit noise.</summary>
    public static unsafe void Forward(Tensor logits, Tensor noise, Tensor mask, Tensor ySoft, float scale = DefaultScale, float tau = DefaultTau)
    {
        int classes = Classes("GumbelSoftmax", logits, mask, ySoft);
        Shape.Require("GumbelSoftmax noise", logits.Shape, noise.Shape);
        if (!logits.Device.IsCpu)
        {
            ForwardCuda(logits, noise, mask, ySoft, classes, scale, tau);
            return;
        }
        OpGuard.Cpu("GumbelSoftmax", logits, noise, mask, ySoft);
        nint al = (nint)logits.Pointer<float>(), an = (nint)noise.Pointer<float>(), am = (nint)mask.Pointer<float>(), ay = (nint)ySoft.Pointer<float>();
        ParallelRows.For(Rows(logits, classes), classes, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                long at = (long)r * classes;
                Row(new ReadOnlySpan<float>((float*)al + at, classes), new ReadOnlySpan<float>((float*)an + at, classes),
                    new Span<float>((float*)am + at, classes), new Span<float>((float*)ay + at, classes), scale, tau);
            }
        });
    }

    /// <summary>
    /// mask and ySoft from logits, with the noise of <see cref="Noise"/>(seed, stream) drawn on the fly: logit i takes
    /// the stream's element <paramref name="firstIndex"/> + i, so a part of a larger batch (one rank's images of a
    /// data-parallel step) draws the noise the whole batch would give it. <paramref name="streamAt"/>, when given, holds
    /// the stream instead: an i32 [2] tensor on the op's device with the 64-bit value (<see cref="StreamTensor"/>), which
    /// a training step replayed as a CUDA graph rewrites before each replay.
    /// </summary>
    public static unsafe void Forward(Tensor logits, ulong seed, ulong stream, Tensor mask, Tensor ySoft, float scale = DefaultScale, float tau = DefaultTau,
        ulong firstIndex = 0, Tensor? streamAt = null)
    {
        int classes = Classes("GumbelSoftmax", logits, mask, ySoft);
        if (streamAt is not null)
            Shape.Require("GumbelSoftmax stream", [2], streamAt.Shape);
        if (!logits.Device.IsCpu)
        {
            ForwardCuda(logits, seed, stream, streamAt, firstIndex, mask, ySoft, classes, scale, tau);
            return;
        }
        OpGuard.Cpu("GumbelSoftmax", logits, mask, ySoft);
        if (streamAt is not null)
        {
            OpGuard.Cpu("GumbelSoftmax stream", DType.I32, streamAt);
            stream = MemoryMarshal.Read<ulong>(MemoryMarshal.AsBytes(streamAt.AsSpan<int>()));
        }
        nint al = (nint)logits.Pointer<float>(), am = (nint)mask.Pointer<float>(), ay = (nint)ySoft.Pointer<float>();
        ParallelRows.For(Rows(logits, classes), classes, (start, end) =>
        {
            float[] noise = new float[classes];
            for (int r = start; r < end; r++)
            {
                long at = (long)r * classes;
                Noise(seed, stream, firstIndex + (ulong)at, noise);
                Row(new ReadOnlySpan<float>((float*)al + at, classes), noise,
                    new Span<float>((float*)am + at, classes), new Span<float>((float*)ay + at, classes), scale, tau);
            }
        });
    }

    /// <summary>An i32 [2] tensor on <paramref name="device"/> holding <paramref name="stream"/>, for <see cref="Forward(Tensor, ulong, ulong, Tensor, Tensor, float, float, ulong, Tensor?)"/>.</summary>
    public static Tensor StreamTensor(ulong stream, Device device)
    {
        using Tensor host = Tensor.FromSpan(MemoryMarshal.Cast<ulong, int>([stream]), [2]);
        return host.ToDevice(device);
    }

    /// <summary>dLogits = (scale/τ)·y_soft ⊙ (dMask − Σ_c dMask ⊙ y_soft), row by row.</summary>
    public static unsafe void Backward(Tensor dMask, Tensor ySoft, Tensor dLogits, float scale = DefaultScale, float tau = DefaultTau)
    {
        int classes = Classes("GumbelSoftmax.Backward", dMask, ySoft, dLogits);
        if (!dMask.Device.IsCpu)
        {
            BackwardCuda(dMask, ySoft, dLogits, classes, scale / tau);
            return;
        }
        OpGuard.Cpu("GumbelSoftmax.Backward", dMask, ySoft, dLogits);
        nint ag = (nint)dMask.Pointer<float>(), ay = (nint)ySoft.Pointer<float>(), ad = (nint)dLogits.Pointer<float>();
        float factor = scale / tau;
        ParallelRows.For(Rows(dMask, classes), classes, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                long at = (long)r * classes;
                var grad = new ReadOnlySpan<float>((float*)ag + at, classes);
                var soft = new ReadOnlySpan<float>((float*)ay + at, classes);
                var output = new Span<float>((float*)ad + at, classes);
                float dot = TensorPrimitives.Dot(grad, soft);
                TensorPrimitives.Subtract(grad, dot, output);
                TensorPrimitives.Multiply(output, soft, output);
                TensorPrimitives.Multiply(output, factor, output);
            }
        });
    }

    /// <summary>One row. scale·O, + g and / τ are separate roundings (no FMA) to form z exactly as PyTorch and the reference do.</summary>
    private static void Row(ReadOnlySpan<float> logits, ReadOnlySpan<float> noise, Span<float> mask, Span<float> soft, float scale, float tau)
    {
        TensorPrimitives.Multiply(logits, scale, soft);
        TensorPrimitives.Add(soft, noise, soft);
        if (tau != 1) TensorPrimitives.Divide(soft, tau, soft);
        float max = TensorPrimitives.Max(soft);
        TensorPrimitives.Subtract(soft, max, soft);
        TensorPrimitives.Exp(soft, soft);
        TensorPrimitives.Multiply(soft, 1 / TensorPrimitives.Sum(soft), soft);
        // IndexOfMax returns the first of equal maxima, PyTorch's tie rule for max(dim).
        int hard = TensorPrimitives.IndexOfMax(soft);
        for (int c = 0; c < soft.Length; c++)
            mask[c] = ((c == hard ? 1f : 0f) - soft[c]) + soft[c];
    }

    /// <summary>Checks that the tensors share one shape with the classes last; returns C.</summary>
    private static int Classes(string op, Tensor input, Tensor first, Tensor second)
    {
        if (input.Rank == 0)
            throw new TensorShapeException($"{op}: logits {Shape.Format(input.Shape)} need a class dimension");
        Shape.Require(op, input.Shape, first.Shape);
        Shape.Require(op, input.Shape, second.Shape);
        return input.Size(-1);
    }

    private static int Rows(Tensor input, int classes) => classes == 0 ? 0 : checked((int)(input.ElementCount / classes));
}
