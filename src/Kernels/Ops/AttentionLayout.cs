using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The token rows of one attention operand: [batch, tokens, heads·headDim] with a dense last dimension
/// and any row stride, so q, k, v (and dq, dk, dv) can be the three column blocks of the packed
/// in-projection output [B, T, 3·H·Dh] without a copy.
/// </summary>
internal readonly unsafe struct TokenRows(float* data, long batchStride, long rowStride)
{
    public long RowStride { get; } = rowStride;

    /// <summary>
    /// Whether the rows of consecutive batches continue one another at <see cref="RowStride"/>, so the
    /// [batch, tokens] rows form one matrix (true for contiguous tensors and slices of the packed buffer).
    /// </summary>
    public bool Stacks(int tokens) => batchStride == tokens * RowStride;

    /// <summary>Where head <paramref name="head"/> of token 0 of batch <paramref name="batch"/> starts.</summary>
    public float* Head(int batch, int head, int headDim) => data + batch * batchStride + (long)head * headDim;

    /// <summary>Head <paramref name="head"/>'s features of one token.</summary>
    public Span<float> Row(int batch, int token, int head, int headDim) => new(Head(batch, head, headDim) + token * RowStride, headDim);
}

/// <summary>The sizes of one attention call, validated once against every tensor it touches.</summary>
internal readonly struct AttentionLayout
{
    private AttentionLayout(int batch, int keyBatch, int queryLength, int keyLength, int heads, int headDim, bool causal, int queryOffset)
    {
        Batch = batch;
        KeyBatch = keyBatch;
        QueryLength = queryLength;
        KeyLength = keyLength;
        Heads = heads;
        HeadDim = headDim;
        Causal = causal;
        QueryOffset = queryOffset;
    }

    public int Batch { get; }

    /// <summary>1 when keys and values are shared by every query batch (the shared prompt prefix, spec §2.2), else <see cref="Batch"/>.</summary>
    public int KeyBatch { get; }

    public int QueryLength { get; }

    public int KeyLength { get; }

    public int Heads { get; }

    public int HeadDim { get; }

    public int Width => Heads * HeadDim;

    public bool Causal { get; }

    /// <summary>Absolute position of query 0: query i may see keys 0..QueryOffset+i when causal.</summary>
    public int QueryOffset { get; }

    public float Scale => 1 / MathF.Sqrt(HeadDim);

    /// <summary>How many keys query <paramref name="query"/> attends to: a prefix of the key rows.</summary>
    public int VisibleKeys(int query) => Causal ? QueryOffset + query + 1 : KeyLength;

    /// <summary>Which key/value batch query batch <paramref name="batch"/> reads.</summary>
    public int KeyBatchOf(int batch) => KeyBatch == 1 ? 0 : batch;

    /// <summary>Sizes from the element counts of contiguous spans (the plain reference).</summary>
    public static AttentionLayout Of(string op, int queryElements, int keyElements, int batch, int queryLength, int keyLength, int heads, bool causal, int queryOffset)
    {
        if (batch <= 0 || queryLength <= 0 || keyLength <= 0 || heads <= 0)
            throw new ArgumentException($"{op}: batch {batch}, query length {queryLength}, key length {keyLength} and heads {heads} must be positive");
        long queryRows = (long)batch * queryLength;
        if (queryElements % queryRows != 0 || queryElements / queryRows % heads != 0)
            throw new ArgumentException($"{op}: {queryElements} query values are not {batch}×{queryLength} rows of {heads} heads");
        int width = (int)(queryElements / queryRows);
        if (width == 0 || keyElements % ((long)keyLength * width) != 0)
            throw new ArgumentException($"{op}: {keyElements} key values are not rows of {keyLength}×{width}");
        return Create(op, batch, (int)(keyElements / ((long)keyLength * width)), queryLength, keyLength, heads, width, causal, queryOffset);
    }

    /// <summary>Sizes from q [B, Tq, H·Dh] and k [1 or B, Tk, H·Dh].</summary>
    public static AttentionLayout Of(string op, Tensor q, Tensor k, int heads, bool causal, int queryOffset)
    {
        if (q.Rank != 3 || k.Rank != 3)
            throw new TensorShapeException($"{op}: q {Shape.Format(q.Shape)} and k {Shape.Format(k.Shape)} must be [batch, tokens, heads·headDim]");
        if (heads <= 0 || q.Size(2) % heads != 0 || q.Size(2) == 0)
            throw new TensorShapeException($"{op}: width {q.Size(2)} of q {Shape.Format(q.Shape)} does not split into {heads} heads");
        return Create(op, q.Size(0), k.Size(0), q.Size(1), k.Size(1), heads, q.Size(2), causal, queryOffset);
    }

    private static AttentionLayout Create(string op, int batch, int keyBatch, int queryLength, int keyLength, int heads, int width, bool causal, int queryOffset)
    {
        if (keyBatch != 1 && keyBatch != batch)
            throw new TensorShapeException($"{op}: key/value batch {keyBatch} is neither 1 nor the query batch {batch}");
        if (causal && (queryOffset < 0 || queryOffset + queryLength > keyLength))
            throw new ArgumentException($"{op}: causal queries at positions {queryOffset}..{queryOffset + queryLength - 1} need keys up to there; there are {keyLength}");
        if (!causal && queryOffset != 0)
            throw new ArgumentException($"{op}: query offset {queryOffset} only has a meaning with the causal mask");
        return new AttentionLayout(batch, keyBatch, queryLength, keyLength, heads, width / heads, causal, queryOffset);
    }

    /// <summary>
    /// Checks an operand of shape [batch, tokens, width] and element type <paramref name="dtype"/> (f32, or bf16 for the
    /// GPU's bfloat16 kernel) whose last dimension is dense; rows may be strided (views into the packed qkv buffer).
    /// Returns its element strides between batches and between token rows; size-1 dimensions carry no stride that
    /// matters, so they get the one a dense tensor would have.
    /// </summary>
    public static (long BatchStride, long RowStride) Strides(string op, Tensor tensor, int batch, int tokens, int width, DType dtype = DType.F32)
    {
        if (tensor.DType != dtype)
            throw new ArgumentException($"{op}: {tensor} holds {tensor.DType.Name()}; this op computes on {dtype.Name()}");
        Shape.Require(op, [batch, tokens, width], tensor.Shape);
        if (width > 1 && tensor.Strides[2] != 1)
            throw new ArgumentException($"{op}: {tensor} has stride {tensor.Strides[2]} between features; the last dimension must be dense");
        long rowStride = tokens > 1 ? tensor.Strides[1] : width;
        if (rowStride < width)
            throw new ArgumentException($"{op}: {tensor} has row stride {rowStride} < width {width}; its token rows overlap");
        return (batch > 1 ? tensor.Strides[0] : tokens * rowStride, rowStride);
    }

    /// <summary>The rows of a CPU operand, checked as <see cref="Strides"/> does.</summary>
    public static unsafe TokenRows Rows(string op, Tensor tensor, int batch, int tokens, int width)
    {
        if (!tensor.Device.IsCpu)
            throw new ArgumentException($"{op}: {tensor} is on {tensor.Device}, not in host memory like the output");
        (long batchStride, long rowStride) = Strides(op, tensor, batch, tokens, width);
        return new TokenRows(tensor.Pointer<float>(), batchStride, rowStride);
    }
}
