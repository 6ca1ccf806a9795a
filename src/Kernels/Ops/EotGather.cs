using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Gathers one row per sequence (spec §2.2): y[c] = x[c, index_c, :] for x [C,L,W], the feature row of
/// each class's prompt after <c>ln_final</c>. The op takes the indices; <see cref="Indices"/> computes
/// them as the authors' code does, index_c = M + 1 + argmax(slot ids of c) (first maximum), which is the
/// EOT position for names of at most two BPE tokens and a content token for longer ones (ADE's
/// "chest of drawers", "skyscraper", "conveyer belt"). Backward scatters dy into dx, zeros elsewhere.
/// </summary>
public static partial class EotGather
{
    /// <summary>index_c = contextCount + 1 + argmax_j slotIds[c·S + j], for the C = slotIds.Length / S classes.</summary>
    public static void Indices(ReadOnlySpan<int> slotIds, int slotCount, int contextCount, Span<int> indices)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slotCount);
        if (slotIds.Length != indices.Length * slotCount)
            throw new ArgumentException($"EotGather.Indices: {slotIds.Length} slot ids are not {slotCount} for each of {indices.Length} classes");
        for (int c = 0; c < indices.Length; c++)
        {
            ReadOnlySpan<int> slots = slotIds.Slice(c * slotCount, slotCount);
            int best = 0;
            for (int j = 1; j < slotCount; j++)
                if (slots[j] > slots[best]) best = j;
            indices[c] = contextCount + 1 + best;
        }
    }

    /// <summary>The definition. x [C·L·W], indices [C], y [C·W].</summary>
    public static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<int> indices, Span<float> y, int length)
    {
        int classes = indices.Length, width = classes == 0 ? 0 : y.Length / classes;
        for (int c = 0; c < classes; c++)
            for (int w = 0; w < width; w++)
                y[c * width + w] = x[(c * length + indices[c]) * width + w];
    }

    /// <summary>The definition of the backward pass: dx [C·L·W] is dy at the gathered rows and zero elsewhere.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<int> indices, Span<float> dx, int length)
    {
        int classes = indices.Length, width = classes == 0 ? 0 : dy.Length / classes;
        dx.Clear();
        for (int c = 0; c < classes; c++)
            for (int w = 0; w < width; w++)
                dx[(c * length + indices[c]) * width + w] = dy[c * width + w];
    }

    /// <summary>y [C,W] = x[c, indices[c], :] for x [C,L,W], on the device of y. Row copies: nothing to vectorize beyond the copy itself.</summary>
    public static unsafe void Forward(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        (int length, int width) = Sizes("EotGather", x.Shape, indices, y.Shape);
        if (!y.Device.IsCpu)
        {
            ForwardCuda(x, indices, y, length, width);
            return;
        }
        OpGuard.Cpu("EotGather", x, y);
        float* px = x.Pointer<float>(), py = y.Pointer<float>();
        for (int c = 0; c < indices.Length; c++)
            new ReadOnlySpan<float>(px + ((long)c * length + indices[c]) * width, width).CopyTo(new Span<float>(py + (long)c * width, width));
    }

    /// <summary>dx [C,L,W] = 0 except dx[c, indices[c], :] = dy[c].</summary>
    public static unsafe void Backward(Tensor dy, ReadOnlySpan<int> indices, Tensor dx)
    {
        (int length, int width) = Sizes("EotGather.Backward", dx.Shape, indices, dy.Shape);
        if (!dx.Device.IsCpu)
        {
            BackwardCuda(dy, indices, dx, length, width);
            return;
        }
        OpGuard.Cpu("EotGather.Backward", dy, dx);
        dx.AsSpan<float>().Clear();
        float* pg = dy.Pointer<float>(), pd = dx.Pointer<float>();
        for (int c = 0; c < indices.Length; c++)
            new ReadOnlySpan<float>(pg + (long)c * width, width).CopyTo(new Span<float>(pd + ((long)c * length + indices[c]) * width, width));
    }

    /// <summary>Checks x [C,L,W], y [C,W] and every index in 0..L−1; returns (L, W).</summary>
    private static (int Length, int Width) Sizes(string op, ReadOnlySpan<int> xShape, ReadOnlySpan<int> indices, ReadOnlySpan<int> yShape)
    {
        if (xShape.Length != 3)
            throw new TensorShapeException($"{op}: sequences {Shape.Format(xShape)} are not [C,L,W]");
        int classes = xShape[0], length = xShape[1], width = xShape[2];
        if (indices.Length != classes)
            throw new ArgumentException($"{op}: {indices.Length} indices for {classes} sequences of {Shape.Format(xShape)}");
        Shape.Require(op + " gathered rows", [classes, width], yShape);
        foreach (int index in indices)
            if ((uint)index >= (uint)length)
                throw new ArgumentOutOfRangeException(nameof(indices), $"{op}: index {index} is outside the sequence length {length}");
        return (length, width);
    }
}
