using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The text tower's token lookup (spec §2.2): x[b, t] = E[ids[b, t]] + pos[first + t] for token ids [B·T], the token
/// embedding table E [V, W] and the positional embedding pos [L, W]; first &gt; 0 places the tokens after others (the
/// classes' own positions after the shared prompt prefix). Forward only: the token table is frozen.
/// </summary>
public static partial class TokenEmbedding
{
    /// <summary>The definition. embedding [V·W], ids [B·T], positional [L·W], x [B·T·W].</summary>
    public static void Reference(ReadOnlySpan<float> embedding, ReadOnlySpan<int> ids, ReadOnlySpan<float> positional, int firstPosition, Span<float> x,
        int tokens, int width)
    {
        for (int r = 0; r < ids.Length; r++)
            for (int w = 0; w < width; w++)
                x[r * width + w] = embedding[ids[r] * width + w] + positional[(firstPosition + r % tokens) * width + w];
    }

    /// <summary>x [B, T, W] from B·T ids, on the device of x. Every id must be a row of the table and first + T ≤ L.</summary>
    public static void Forward(Tensor embedding, ReadOnlySpan<int> ids, Tensor positional, int firstPosition, Tensor x)
    {
        const string op = "TokenEmbedding";
        if (embedding.Rank != 2 || positional.Rank != 2 || x.Rank != 3 || embedding.Size(1) != x.Size(2) || positional.Size(1) != x.Size(2))
            throw new TensorShapeException($"{op}: table {Shape.Format(embedding.Shape)}, positions {Shape.Format(positional.Shape)} and x {Shape.Format(x.Shape)} must be [V, W], [L, W] and [B, T, W]");
        int tokens = x.Size(1), width = x.Size(2), vocabulary = embedding.Size(0);
        if (ids.Length != x.Size(0) * tokens)
            throw new ArgumentException($"{op}: {ids.Length} ids for x {Shape.Format(x.Shape)}");
        if (firstPosition < 0 || firstPosition + tokens > positional.Size(0))
            throw new ArgumentException($"{op}: positions {firstPosition}..{firstPosition + tokens - 1} are outside the {positional.Size(0)} of the positional embedding");
        foreach (int id in ids)
            if ((uint)id >= (uint)vocabulary)
                throw new ArgumentOutOfRangeException(nameof(ids), $"{op}: token id {id} is outside the vocabulary of {vocabulary}");
        if (!x.Device.IsCpu)
        {
            ForwardCuda(embedding, ids, positional, firstPosition, x);
            return;
        }
        OpGuard.Cpu(op, embedding, positional, x);
        ReadOnlySpan<float> table = embedding.AsSpan<float>(), position = positional.AsSpan<float>();
        Span<float> rows = x.AsSpan<float>();
        for (int r = 0; r < ids.Length; r++)
            TensorPrimitives.Add(table.Slice(ids[r] * width, width), position.Slice((firstPosition + r % tokens) * width, width), rows.Slice(r * width, width));
    }
}
