using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The text-encoder input of the learnable Reference prompt (spec §2.2), for C classes:
/// x[c,0] = E[SOT]; x[c,1..M] = ctx[0..M−1] (the M learnable context vectors, shared by all classes);
/// x[c,M+1..M+S] = E[slot ids of class c]; then + pos[0..L−1]. E [V,W] is the token embedding table,
/// pos [L,W] the positional embedding, L = 1 + M + S the context length (ViT-B/16: M = 73, S = 3, L = 77;
/// a tiny model has other sizes, so all three come from the shapes). Only the context vectors learn:
/// the backward pass gives dctx[m] = Σ_c dx[c, 1+m].
/// </summary>
public static partial class PromptEmbedding
{
    /// <summary>CLIP's start-of-text token id.</summary>
    public const int ClipStartToken = 49406;

    /// <summary>
    /// The definition. embedding [V·W], context [M·W], slotIds [C·S] (row-major per class), positional [L·W]
    /// with L = 1 + M + S, x [C·L·W].
    /// </summary>
    public static void Reference(ReadOnlySpan<float> embedding, ReadOnlySpan<float> context, ReadOnlySpan<int> slotIds, int slotCount,
        ReadOnlySpan<float> positional, Span<float> x, int startToken, int width)
    {
        int contextCount = context.Length / width, length = 1 + contextCount + slotCount, classes = slotIds.Length / slotCount;
        for (int c = 0; c < classes; c++)
            for (int l = 0; l < length; l++)
                for (int w = 0; w < width; w++)
                {
                    float token = l == 0 ? embedding[startToken * width + w]
                        : l <= contextCount ? context[(l - 1) * width + w]
                        : embedding[slotIds[c * slotCount + l - 1 - contextCount] * width + w];
                    x[(c * length + l) * width + w] = token + positional[l * width + w];
                }
    }

    /// <summary>The definition of the backward pass, summing over classes in double: dContext [M·W] from dx [C·L·W].</summary>
    public static void BackwardReference(ReadOnlySpan<float> dx, Span<float> dContext, int classes, int length, int width)
    {
        int contextCount = dContext.Length / width;
        for (int m = 0; m < contextCount; m++)
            for (int w = 0; w < width; w++)
            {
                double sum = 0;
                for (int c = 0; c < classes; c++)
                    sum += dx[(c * length + 1 + m) * width + w];
                dContext[m * width + w] = (float)sum;
            }
    }

    /// <summary>x [C,L,W] from the embedding table [V,W], the context [M,W], C·S slot ids and pos [L,W].</summary>
    public static unsafe void Forward(Tensor embedding, Tensor context, ReadOnlySpan<int> slotIds, int slotCount, Tensor positional, Tensor x, int startToken)
    {
        (int classes, int length, int width) = Sizes("PromptEmbedding", context, slotIds.Length, slotCount, positional, x.Shape);
        if (embedding.Rank != 2 || embedding.Size(1) != width)
            throw new TensorShapeException($"PromptEmbedding: token embedding {Shape.Format(embedding.Shape)} is not [V,{width}]");
        int vocabulary = embedding.Size(0), contextCount = context.Size(0);
        CheckToken(startToken, vocabulary, "start token");
        foreach (int id in slotIds)
            CheckToken(id, vocabulary, "slot id");
        if (!x.Device.IsCpu)
        {
            ForwardCuda(embedding, context, slotIds, slotCount, positional, x, startToken, classes, width);
            return;
        }
        OpGuard.Cpu("PromptEmbedding", embedding, context, positional, x);
        // The ids are copied so the parallel body (a lambda) can read them; C·S ints.
        int[] ids = slotIds.ToArray();
        nint ae = (nint)embedding.Pointer<float>(), ac = (nint)context.Pointer<float>(), ap = (nint)positional.Pointer<float>(), ax = (nint)x.Pointer<float>();
        ParallelRows.For(classes * length, width, (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                int c = row / length, l = row % length;
                float* source = l == 0 ? (float*)ae + (long)startToken * width
                    : l <= contextCount ? (float*)ac + (long)(l - 1) * width
                    : (float*)ae + (long)ids[c * slotCount + l - 1 - contextCount] * width;
                TensorPrimitives.Add(new ReadOnlySpan<float>(source, width), new ReadOnlySpan<float>((float*)ap + (long)l * width, width),
                    new Span<float>((float*)ax + (long)row * width, width));
            }
        });
    }

    /// <summary>dContext [M,W] = Σ_c dx[c, 1..M] (dx [C,L,W]); the classes are summed in order, so the result is deterministic.</summary>
    public static unsafe void Backward(Tensor dx, Tensor dContext)
    {
        if (dx.Rank != 3 || dContext.Rank != 2 || dx.Size(2) != dContext.Size(1) || dx.Size(1) < 1 + dContext.Size(0))
            throw new TensorShapeException($"PromptEmbedding.Backward: dx {Shape.Format(dx.Shape)} is not [C,L,W] with L ≥ 1 + M for dContext {Shape.Format(dContext.Shape)} [M,W]");
        if (!dContext.Device.IsCpu)
        {
            BackwardCuda(dx, dContext);
            return;
        }
        OpGuard.Cpu("PromptEmbedding.Backward", dx, dContext);
        int classes = dx.Size(0), length = dx.Size(1), width = dx.Size(2), contextCount = dContext.Size(0);
        nint ag = (nint)dx.Pointer<float>(), ad = (nint)dContext.Pointer<float>();
        ParallelRows.For(contextCount, (long)classes * width, (start, end) =>
        {
            for (int m = start; m < end; m++)
            {
                var output = new Span<float>((float*)ad + (long)m * width, width);
                output.Clear();
                for (int c = 0; c < classes; c++)
                    TensorPrimitives.Add(output, new ReadOnlySpan<float>((float*)ag + ((long)c * length + 1 + m) * width, width), output);
            }
        });
    }

    /// <summary>Checks context [M,W], pos [L,W] with L = 1 + M + S, C·S slot ids and x [C,L,W]; returns (C, L, W).</summary>
    private static (int Classes, int Length, int Width) Sizes(string op, Tensor context, int idCount, int slotCount, Tensor positional, ReadOnlySpan<int> xShape)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slotCount);
        if (context.Rank != 2 || positional.Rank != 2)
            throw new TensorShapeException($"{op}: expected context [M,W] and positional embedding [L,W]; got {Shape.Format(context.Shape)}, {Shape.Format(positional.Shape)}");
        int width = context.Size(1), length = 1 + context.Size(0) + slotCount;
        Shape.Require(op + " positional embedding (L = 1 + M + slots)", [length, width], positional.Shape);
        if (idCount % slotCount != 0)
            throw new ArgumentException($"{op}: {idCount} slot ids are not {slotCount} per class");
        int classes = idCount / slotCount;
        Shape.Require(op + " x", [classes, length, width], xShape);
        return (classes, length, width);
    }

    private static void CheckToken(int id, int vocabulary, string what)
    {
        if ((uint)id >= (uint)vocabulary)
            throw new ArgumentOutOfRangeException(nameof(id), $"PromptEmbedding: {what} {id} is outside the token embedding's 0..{vocabulary - 1}");
    }
}
