using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The core of multi-head attention, between CLIP's packed in-projection and its out-projection:
/// per batch b and head h, o = softmax(q·kᵀ/√Dh + mask)·v, with q [B, Tq, H·Dh], k and v [Bk, Tk, H·Dh].
/// The image encoder runs it bidirectionally (197–1025 tokens, 12 heads × 64, spec §4.2, §4.3), the
/// text encoder with CLIP's causal mask (77 tokens, 8 heads × 64, spec §2.2). With the causal mask query i
/// sits at absolute position offset + i and sees keys 0..offset + i; Tq &lt; Tk with offset = Tk − Tq and
/// Bk = 1 is the shared-prefix case of spec §2.2/§14: the prefix's keys and values are computed once and
/// every class's last positions attend to them (their gradients then sum over the classes).
/// Forward saves the softmax row statistic logsumexp [B, H, Tq]; the backward pass (AttentionBackward.cs)
/// recomputes the probabilities from it and gives the input gradients dq, dk, dv — the encoders are
/// frozen, so there are no weight gradients here.
/// </summary>
public static partial class Attention
{
    /// <summary>
    /// 64 KiB of scores per block of queries, so they stay in L2 next to the head's packed keys and values. Measured on
    /// Zen 3 (512 KiB L2): 8–64 KiB are equally fast, 128 KiB and whole heads 10–20 % slower at 197–785 tokens.
    /// </summary>
    private const int ScoreBlockFloats = 16 * 1024;

    [ThreadStatic] private static float[]? threadScores;
    [ThreadStatic] private static PackedMatrix? threadKeys, threadValues;

    /// <summary>
    /// The definition, in double precision, on contiguous q [batch, Tq, H·Dh], k and v [1 or batch, Tk, H·Dh];
    /// o [batch, Tq, H·Dh], logsumexp [batch, H, Tq] of the scaled, masked scores.
    /// </summary>
    public static void Reference(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o, Span<float> logsumexp,
        int batch, int queryLength, int keyLength, int heads, bool causal, int queryOffset = 0)
    {
        AttentionLayout layout = AttentionLayout.Of("Attention.Reference", q.Length, k.Length, batch, queryLength, keyLength, heads, causal, queryOffset);
        int width = layout.Width, headDim = layout.HeadDim;
        double scale = 1 / Math.Sqrt(headDim);
        double[] p = new double[keyLength];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < queryLength; i++)
                {
                    int qRow = (b * queryLength + i) * width + h * headDim;
                    int keyBase = layout.KeyBatchOf(b) * keyLength * width + h * headDim;
                    int visible = layout.VisibleKeys(i);
                    double max = double.NegativeInfinity, sum = 0;
                    for (int j = 0; j < visible; j++)
                    {
                        double dot = 0;
                        for (int d = 0; d < headDim; d++)
                            dot += (double)q[qRow + d] * k[keyBase + j * width + d];
                        p[j] = dot * scale;
                        max = Math.Max(max, p[j]);
                    }
                    for (int j = 0; j < visible; j++)
                    {
                        p[j] = Math.Exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int d = 0; d < headDim; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < visible; j++)
                            acc += p[j] * v[keyBase + j * width + d];
                        o[qRow + d] = (float)(acc / sum);
                    }
                    logsumexp[(b * heads + h) * queryLength + i] = (float)(max + Math.Log(sum));
                }
    }

    /// <summary>
    /// o = attention(q, k, v), on the device of o. q [B, Tq, H·Dh], k and v [1 or B, Tk, H·Dh] may be strided views
    /// (dense last dimension, any row stride), e.g. slices of the packed qkv buffer; o [B, Tq, H·Dh] is contiguous.
    /// <paramref name="logsumexp"/> [B, H, Tq] receives what <see cref="Backward"/> needs, when given.
    /// <paramref name="precision"/> says how the products are computed (<see cref="AttentionPrecision"/>); with
    /// <see cref="AttentionPrecision.BFloat16"/> o may be bfloat16 (rounded from the float32 result) when it only feeds a
    /// bfloat16 linear, and q, k, v may be bfloat16 (a GEMM's bfloat16 output).
    /// </summary>
    public static void Forward(Tensor q, Tensor k, Tensor v, Tensor o, int heads, bool causal, int queryOffset = 0, Tensor? logsumexp = null,
        AttentionPrecision precision = AttentionPrecision.Float32)
    {
        const string op = "Attention";
        AttentionLayout layout = AttentionLayout.Of(op, q, k, heads, causal, queryOffset);
        int batch = layout.Batch, queryLength = layout.QueryLength, keyLength = layout.KeyLength, width = layout.Width;
        Shape.Require(op + " o", [batch, queryLength, width], o.Shape);
        if (logsumexp is not null)
            Shape.Require(op + " logsumexp", [batch, heads, queryLength], logsumexp.Shape);
        if ((o.DType == DType.BF16 || q.DType == DType.BF16) && precision != AttentionPrecision.BFloat16)
            throw new ArgumentException($"{op}: bfloat16 operands or o belong to {nameof(AttentionPrecision.BFloat16)} attention, not to {precision}");
        // Rows of o are written while other rows' queries, keys and values are still read; on a GPU the first launch of a
        // shape may even run several times (LaunchVariants times the builds on the real buffers).
        if (ReferenceEquals(q.Storage, o.Storage) || ReferenceEquals(k.Storage, o.Storage) || ReferenceEquals(v.Storage, o.Storage))
            throw new ArgumentException($"{op}: o {o} shares memory with q, k or v; attend into another tensor");
        if (!o.Device.IsCpu)
        {
            ForwardCuda(DeviceOperands.Of(op, layout, o, q, k, v, null, null), o, logsumexp, precision);
            return;
        }
        if (o.DType == DType.BF16)
        {
            BFloat16Convert.ThroughFloat32(o, scratch => Forward(q, k, v, scratch, heads, causal, queryOffset, logsumexp, precision));
            return;
        }
        if (precision == AttentionPrecision.BFloat16)
        {
            using Tensor roundedQ = BFloat16Convert.RoundedCopy(q), roundedK = BFloat16Convert.RoundedCopy(k), roundedV = BFloat16Convert.RoundedCopy(v);
            Forward(roundedQ, roundedK, roundedV, o, heads, causal, queryOffset, logsumexp);
            return;
        }
        TokenRows queries = AttentionLayout.Rows(op + " q", q, batch, queryLength, width);
        TokenRows keys = AttentionLayout.Rows(op + " k", k, layout.KeyBatch, keyLength, width);
        TokenRows values = AttentionLayout.Rows(op + " v", v, layout.KeyBatch, keyLength, width);
        OpGuard.Cpu(op, o);
        if (logsumexp is not null)
            OpGuard.Cpu(op, logsumexp);
        // Shared keys (Bk = 1, the prompt prefix): the queries of all batches stack into one matrix per head, so
        // each head is two GEMMs of B·Tq rows instead of B tiny ones (Tq = 3 there, spec §14).
        int blockBatches = layout.KeyBatch == 1 && queries.Stacks(queryLength) ? batch : 1;
        int blocks = batch / blockBatches, blockRows = blockBatches * queryLength;
        unsafe
        {
            nint output = (nint)o.Pointer<float>(), statistics = logsumexp is null ? 0 : (nint)logsumexp.Pointer<float>();
            // One task per (query block, head): each owns its rows of o and logsumexp. Inside a pool task the GEMMs
            // run on that thread; when there is a single task, ParallelRows runs inline and the GEMMs spread instead.
            ParallelRows.For(blocks * heads, (long)blockRows * keyLength * layout.HeadDim, (start, end) =>
            {
                float[] scratch = Scratch(ref threadScores, Math.Min(blockRows, QueryBlock(keyLength)) * keyLength);
                fixed (float* scores = scratch)
                    for (int task = start; task < end; task++)
                        ForwardBlock(layout, queries, keys, values, task / heads * blockBatches, blockBatches, task % heads,
                            scores, (float*)output, (float*)statistics);
            });
        }
    }

    /// <summary>
    /// Head h of query batches firstBatch..firstBatch+batches−1, whose rows form one matrix. The head's keys and
    /// values are packed once, then the queries go through in blocks of <see cref="QueryBlock"/> rows: S = scale·Q·Kᵀ,
    /// row-wise masked exponentials in place, O = E·V, each O row divided by its sum. A block's scores stay in L2; a
    /// whole head's (442² floats at 336 px, 785² at 448) did not, and passing over them three times through L3 held
    /// attention to 55 GFLOP/s at 442–785 tokens against the GEMMs' 140 (now ~100).
    /// </summary>
    private static unsafe void ForwardBlock(AttentionLayout layout, TokenRows q, TokenRows k, TokenRows v, int firstBatch, int batches, int h,
        float* scores, float* o, float* logsumexp)
    {
        int queryLength = layout.QueryLength, keyLength = layout.KeyLength, headDim = layout.HeadDim, rows = batches * queryLength;
        int keyBatch = layout.KeyBatchOf(firstBatch);
        PackedMatrix keysT = PackedMatrix.Repack(ref threadKeys, new GemmOperand(k.Head(keyBatch, h, headDim), k.RowStride, true), headDim, keyLength);
        PackedMatrix valueRows = PackedMatrix.Repack(ref threadValues, new GemmOperand(v.Head(keyBatch, h, headDim), v.RowStride, false), keyLength, headDim);
        float* queryRows = q.Head(firstBatch, h, headDim);
        float* outputRows = o + (long)firstBatch * queryLength * layout.Width + (long)h * headDim;
        int block = QueryBlock(keyLength);
        float* inverseSums = stackalloc float[block];
        for (int r0 = 0; r0 < rows; r0 += block)
        {
            int count = Math.Min(block, rows - r0);
            Sgemm.Multiply(count, layout.Scale, new GemmOperand(queryRows + r0 * q.RowStride, q.RowStride, false), keysT, 0, scores, keyLength);
            for (int r = 0; r < count; r++)
            {
                float* row = scores + (long)r * keyLength;
                int i = (r0 + r) % queryLength, visible = layout.VisibleKeys(i);
                inverseSums[r] = ExponentiateRow(row, visible, keyLength, out float rowLogsumexp);
                if (logsumexp is not null)
                    logsumexp[((long)(firstBatch + (r0 + r) / queryLength) * layout.Heads + h) * queryLength + i] = rowLogsumexp;
            }
            float* outputBlock = outputRows + (long)r0 * layout.Width;
            Sgemm.Multiply(count, 1, new GemmOperand(scores, keyLength, false), valueRows, 0, outputBlock, layout.Width);
            for (int r = 0; r < count; r++)
            {
                var outputRow = new Span<float>(outputBlock + (long)r * layout.Width, headDim);
                TensorPrimitives.Multiply(outputRow, inverseSums[r], outputRow);
            }
        }
    }

    /// <summary>
    /// Query rows per block: as many as keep the block's scores within <see cref="ScoreBlockFloats"/>, in whole
    /// register tiles of either kernel (12 rows), at least one tile.
    /// </summary>
    private static int QueryBlock(int keyLength) => Math.Max(12, ScoreBlockFloats / Math.Max(1, keyLength) / 12 * 12);

    /// <summary>
    /// A row of scores becomes its unnormalised softmax in place: e^(s − max) over the first <paramref name="visible"/>
    /// entries, 0 over the masked rest. Returns 1 / the sum, for the output row; the row's logsumexp goes out, for the
    /// backward pass. Subtracting the row maximum keeps exp in range; it comes back in logsumexp.
    /// </summary>
    private static unsafe float ExponentiateRow(float* row, int visible, int length, out float logsumexp)
    {
        float max = TensorPrimitives.Max(new ReadOnlySpan<float>(row, visible));
        float sum = VectorExp.ExpShifted(row, visible, max);
        new Span<float>(row + visible, length - visible).Clear();
        logsumexp = max + MathF.Log(sum);
        return 1 / sum;
    }

    /// <summary>A thread's scratch matrix, grown on demand and kept for the thread's life (no allocation per call).</summary>
    private static float[] Scratch(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
            buffer = new float[length];
        return buffer;
    }
}
