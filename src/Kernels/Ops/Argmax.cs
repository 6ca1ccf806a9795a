using System.Numerics;
using System.Runtime.Intrinsics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Index of the maximum along the last dimension, as int32: the class prediction of each pixel of a
/// [pixels, classes] score map (spec §10 step 5). Ties go to the first maximum and a NaN counts as the
/// maximum (the first NaN wins), as torch.argmax does on the CPU; −0 and +0 are equal, so the first of
/// them wins too (TensorPrimitives.IndexOfMax ranks +0 above −0, which is why it is not used). When the
/// prompt-denoising filter removed every class, all scores tie and the answer is class 0 (spec §10.3).
/// </summary>
public static partial class Argmax
{
    /// <summary>The definition. x: [rows·width]; indices: [rows].</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<int> indices)
    {
        int width = x.Length / indices.Length;
        for (int r = 0; r < indices.Length; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * width, width);
            int best = 0;
            for (int i = 1; i < width; i++)
                if (row[i] > row[best] || (float.IsNaN(row[i]) && !float.IsNaN(row[best])))
                    best = i;
            indices[r] = best;
        }
    }

    /// <summary>indices[...] = argmax over the last dimension of x[..., width]; indices is i32 with x's leading shape.</summary>
    public static void Forward(Tensor x, Tensor indices)
    {
        if (x.Rank == 0 || x.Size(-1) == 0)
            throw new TensorShapeException($"Argmax: shape {Shape.Format(x.Shape)} has no last dimension to take the maximum over");
        Shape.Require("Argmax indices", x.Shape[..^1], indices.Shape);
        if (!x.Device.IsCpu)
        {
            ForwardCuda(x, indices);
            return;
        }
        OpGuard.Cpu("Argmax", x);
        OpGuard.Cpu("Argmax indices", DType.I32, indices);
        int width = x.Size(-1), rows = (int)(x.ElementCount / width);
        unsafe
        {
            nint ax = (nint)x.Pointer<float>(), ai = (nint)indices.Pointer<int>();
            ParallelRows.For(rows, width, (start, end) =>
            {
                for (int r = start; r < end; r++)
                    ((int*)ai)[r] = FirstMaximum(new ReadOnlySpan<float>((float*)ax + (long)r * width, width));
            });
        }
    }

    /// <summary>
    /// Two passes over a row of 20–150 scores: the maximum (NaN if any element is NaN), then the first element
    /// equal to it under IEEE comparison (−0 = +0). 256-bit vectors suffice for rows this short.
    /// </summary>
    private static int FirstMaximum(ReadOnlySpan<float> row)
    {
        float max = TensorPrimitives.Max(row);
        if (float.IsNaN(max))
            return FirstNaN(row);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> target = Vector256.Create(max);
            for (; i <= row.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                uint equal = Vector256.Equals(Vector256.Create(row.Slice(i, Vector256<float>.Count)), target).ExtractMostSignificantBits();
                if (equal != 0)
                    return i + BitOperations.TrailingZeroCount(equal);
            }
        }
        for (; i < row.Length; i++)
            if (row[i] == max)
                return i;
        throw new InvalidOperationException("Argmax: the row maximum was not found in its row");
    }

    private static int FirstNaN(ReadOnlySpan<float> row)
    {
        for (int i = 0; i < row.Length; i++)
            if (float.IsNaN(row[i]))
                return i;
        throw new InvalidOperationException("Argmax: the row maximum is NaN but the row holds none");
    }
}
