using System.Numerics;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Model.Eval;

/// <summary>
/// From patch-grid logits to a prediction map (spec §10 steps 4–5): bilinear (align_corners=False, no antialias)
/// from the grid (h, w) to the resized image (H', W') — the padded grid stretched onto the unpadded image, as the
/// reference does — then bilinear again to the original label size (H, W), then softmax over classes and argmax.
/// </summary>
public static class Upsampling
{
    /// <summary>logits [C, h, w] or [1, C, h, w] → logits [C, H, W] through [C, H', W'] (two resizes, as the reference).</summary>
    public static Tensor Upsample(Tensor logits, int resizedHeight, int resizedWidth, int labelHeight, int labelWidth)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank is not (3 or 4) || (logits.Rank == 4 && logits.Size(0) != 1))
            throw new TensorShapeException($"Upsampling: logits {Shape.Format(logits.Shape)} are neither [C, h, w] nor [1, C, h, w]");
        int classes = logits.Size(-3);
        using Tensor grid = logits.Reshape(classes, logits.Size(-2), logits.Size(-1));
        using Tensor resized = Tensor.Empty([classes, resizedHeight, resizedWidth], DType.F32, logits.Device);
        BilinearResize.Forward(grid, resized);
        Tensor label = Tensor.Empty([classes, labelHeight, labelWidth], DType.F32, logits.Device);
        try
        {
            BilinearResize.Forward(resized, label);
            return label;
        }
        catch
        {
            label.Dispose();
            throw;
        }
    }

    /// <summary>The prediction map: i32 [H, W] class ids from logits [C, h, w] or [1, C, h, w], on the logits' device.</summary>
    public static Tensor Predict(Tensor logits, int resizedHeight, int resizedWidth, int labelHeight, int labelWidth)
    {
        using Tensor upsampled = Upsample(logits, resizedHeight, resizedWidth, labelHeight, labelWidth);
        return Argmax(upsampled);
    }

    /// <summary>
    /// Class ids [H, W] from logits [C, H, W]. The reference takes softmax before argmax; it cannot reorder
    /// classes, but float32 rounding can make two nearly equal logits tie, and a tie goes to the lower class id,
    /// so the ids are those of softmax then argmax, bit for bit. On the CPU only the pixels that could tie take that
    /// path (<see cref="Distinct"/>): elsewhere the first maximal logit is the answer, in one pass over the planes.
    /// </summary>
    public static Tensor Argmax(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank != 3)
            throw new TensorShapeException($"Upsampling.Argmax: logits {Shape.Format(logits.Shape)} are not [C, H, W]");
        int classes = logits.Size(0), height = logits.Size(1), width = logits.Size(2);
        if (classes == 0 || !logits.Device.IsCpu || !logits.IsContiguous || logits.DType != DType.F32)
            return SoftmaxArgmax(logits);
        Tensor prediction = Tensor.Empty([height, width], DType.I32);
        try
        {
            FirstMaxima(logits.AsSpan<float>(), prediction.AsSpan<int>(), classes, height, width);
            ResolveNearTies(logits.AsSpan<float>(), prediction.AsSpan<int>(), classes);
            return prediction;
        }
        catch
        {
            prediction.Dispose();
            throw;
        }
    }

    /// <summary>
    /// How far the largest logit must lie above every other for the first maximum to be softmax's argmax as well:
    /// the exponentials then differ by a factor e^−1e-4, some 800 float32 ulps, which neither the exponential's
    /// error nor the division's rounding can close. Closer pixels (equal logits among them) take softmax's path.
    /// </summary>
    private const float Distinct = 1e-4f;

    /// <summary>Marks a pixel for <see cref="ResolveNearTies"/>.</summary>
    private const int NearTie = -1;

    /// <summary>
    /// Per pixel, the first class of the largest logit (strictly greater replaces, so equal logits keep the lower id),
    /// or <see cref="NearTie"/> where another logit lies within <see cref="Distinct"/> of it, or the largest is not
    /// finite or any logit is NaN (softmax's NaN rows). Rows of the image in parallel; each walks the C planes along
    /// one image row with vectors of pixels.
    /// </summary>
    private static unsafe void FirstMaxima(ReadOnlySpan<float> logits, Span<int> prediction, int classes, int height, int width)
    {
        fixed (float* source = logits)
        fixed (int* target = prediction)
        {
            nint planes = (nint)source, ids = (nint)target;
            int plane = height * width;
            ParallelRows.For(height, (long)classes * width, (start, end) =>
            {
                float[] largest = new float[width], second = new float[width];
                // Per pixel: the first class of the maximum, and -1 (all bits) once a NaN was seen.
                int[] first = new int[width], nan = new int[width];
                for (int y = start; y < end; y++)
                {
                    var row = new ReadOnlySpan<float>((float*)planes + (long)y * width, width);
                    row.CopyTo(largest);
                    Array.Fill(second, float.NegativeInfinity);
                    Array.Clear(first);
                    for (int x = 0; x < width; x++) nan[x] = float.IsNaN(row[x]) ? -1 : 0;
                    for (int c = 1; c < classes; c++)
                    {
                        row = new ReadOnlySpan<float>((float*)planes + (long)c * plane + (long)y * width, width);
                        int x = 0;
                        // Vectors of pixels: a greater value takes over (the old maximum becomes the runner-up), any
                        // other raises the runner-up. NaN lanes are marked, whatever the selects did with them.
                        for (; x <= width - Vector<float>.Count; x += Vector<float>.Count)
                        {
                            var value = new Vector<float>(row[x..]);
                            var top = new Vector<float>(largest, x);
                            Vector<int> greater = Vector.GreaterThan(value, top);
                            Vector.ConditionalSelect(greater, top, Vector.Max(new Vector<float>(second, x), value)).CopyTo(second, x);
                            Vector.ConditionalSelect(greater, value, top).CopyTo(largest, x);
                            Vector.ConditionalSelect(greater, new Vector<int>(c), new Vector<int>(first, x)).CopyTo(first, x);
                            Vector.BitwiseOr(new Vector<int>(nan, x), Vector.OnesComplement(Vector.Equals(value, value))).CopyTo(nan, x);
                        }
                        for (; x < width; x++)
                        {
                            float value = row[x];
                            if (value > largest[x])
                            {
                                second[x] = largest[x];
                                largest[x] = value;
                                first[x] = c;
                            }
                            else if (value > second[x] || value == largest[x])
                                second[x] = value;
                            nan[x] |= float.IsNaN(value) ? -1 : 0;
                        }
                    }
                    var output = new Span<int>((int*)ids + (long)y * width, width);
                    for (int x = 0; x < width; x++)
                        output[x] = nan[x] != 0 || !float.IsFinite(largest[x]) || !(largest[x] - second[x] > Distinct) ? NearTie : first[x];
                }
            });
        }
    }

    /// <summary>The marked pixels through softmax then argmax, as the reference: their logits gathered as rows [K, C].</summary>
    private static void ResolveNearTies(ReadOnlySpan<float> logits, Span<int> prediction, int classes)
    {
        int plane = prediction.Length;
        List<int> marked = [];
        for (int p = 0; p < plane; p++)
            if (prediction[p] == NearTie) marked.Add(p);
        if (marked.Count == 0) return;
        using Tensor rows = Tensor.Empty([marked.Count, classes]);
        Span<float> values = rows.AsSpan<float>();
        for (int k = 0; k < marked.Count; k++)
            for (int c = 0; c < classes; c++)
                values[k * classes + c] = logits[c * plane + marked[k]];
        Softmax.Forward(rows, rows);
        using Tensor ids = Tensor.Empty([marked.Count], DType.I32);
        Kernels.Ops.Argmax.Forward(rows, ids);
        ReadOnlySpan<int> resolved = ids.AsSpan<int>();
        for (int k = 0; k < marked.Count; k++)
            prediction[marked[k]] = resolved[k];
    }

    /// <summary>
    /// Softmax over the classes of every pixel, then the first maximum: the reference's way, on any device. The planes
    /// become rows [H·W, C] by the transpose op, which runs where they are (a GPU's strided view would be copied through
    /// the host).
    /// </summary>
    internal static Tensor SoftmaxArgmax(Tensor logits)
    {
        int classes = logits.Size(0), height = logits.Size(1), width = logits.Size(2);
        using Tensor dense = logits.Contiguous();
        using Tensor planes = dense.Reshape(1, classes, height * width);
        using Tensor scores = Tensor.Empty([1, height * width, classes], DType.F32, logits.Device);
        PlaneTranspose.Forward(planes, scores);
        using Tensor rows = scores.Reshape(height * width, classes);
        Softmax.Forward(rows, rows);
        Tensor prediction = Tensor.Empty([height, width], DType.I32, logits.Device);
        try
        {
            using Tensor flat = prediction.Reshape(height * width);
            Kernels.Ops.Argmax.Forward(rows, flat);
            return prediction;
        }
        catch
        {
            prediction.Dispose();
            throw;
        }
    }
}
