using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The image tower's input sequence (spec §4.1): the class token, then the patch tokens, each plus its positional
/// embedding: x[b, 0] = cls + clsPosition, x[b, 1 + n] = tokens[b, n] + grid[n], for tokens [B, N, D], the
/// (resized) positional grid [N, D], the class embedding and the class row of the positional embedding ([D] each).
/// Forward only: CLIP is frozen.
/// </summary>
public static partial class ClassTokenSequence
{
    /// <summary>The definition. tokens [B·N·D], grid [N·D], cls and clsPosition [D], x [B·(1+N)·D].</summary>
    public static void Reference(ReadOnlySpan<float> tokens, ReadOnlySpan<float> grid, ReadOnlySpan<float> cls, ReadOnlySpan<float> clsPosition,
        Span<float> x, int batch)
    {
        int width = cls.Length, patches = grid.Length / width;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t <= patches; t++)
                for (int d = 0; d < width; d++)
                    x[(b * (1 + patches) + t) * width + d] = t == 0 ? cls[d] + clsPosition[d]
                        : tokens[(b * patches + t - 1) * width + d] + grid[(t - 1) * width + d];
    }

    /// <summary>x [B, 1 + N, D] from tokens [B, N, D], grid [N, D], cls and clsPosition [D], on the device of x.</summary>
    public static void Forward(Tensor tokens, Tensor grid, Tensor cls, Tensor clsPosition, Tensor x)
    {
        const string op = "ClassTokenSequence";
        if (tokens.Rank != 3 || grid.Rank != 2)
            throw new TensorShapeException($"{op}: tokens {Shape.Format(tokens.Shape)} and grid {Shape.Format(grid.Shape)} must be [B, N, D] and [N, D]");
        int batch = tokens.Size(0), patches = tokens.Size(1), width = tokens.Size(2);
        Shape.Require(op + " grid", [patches, width], grid.Shape);
        if (cls.ElementCount != width || clsPosition.ElementCount != width)
            throw new TensorShapeException($"{op}: class embedding {Shape.Format(cls.Shape)} and its position {Shape.Format(clsPosition.Shape)} must hold {width} values");
        Shape.Require(op + " x", [batch, 1 + patches, width], x.Shape);
        if (!x.Device.IsCpu)
        {
            ForwardCuda(tokens, grid, cls, clsPosition, x);
            return;
        }
        OpGuard.Cpu(op, tokens, grid, cls, clsPosition, x);
        ReadOnlySpan<float> patchRows = tokens.AsSpan<float>(), gridRows = grid.AsSpan<float>();
        Span<float> all = x.AsSpan<float>();
        for (int b = 0; b < batch; b++)
        {
            Span<float> sequence = all.Slice(b * (1 + patches) * width, (1 + patches) * width);
            TensorPrimitives.Add(cls.AsSpan<float>(), clsPosition.AsSpan<float>(), sequence[..width]);
            TensorPrimitives.Add(patchRows.Slice(b * patches * width, patches * width), gridRows, sequence[width..]);
        }
    }
}
