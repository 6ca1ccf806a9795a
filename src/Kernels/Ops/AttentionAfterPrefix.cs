using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Attention of the last S positions of C sequences whose first P positions are the same for all of them (the
/// Reference prompt's context vectors, spec §2.2, §14): query i of class c sees the P prefix keys and its own keys
/// 0..i. The result equals <see cref="Forward"/> on each class's keys [P + S] with the causal offset P, but the
/// per-class key and value rows are never built: per head the prefix's keys and values are packed once, the queries
/// of all classes stack into one product against them, and each class's few own keys are dot products. Building
/// them took 9 % of the Reference prompt's forward at 20 classes (copying the prefix into every class's rows and
/// packing it again per class and head), and the copy grows with the classes (77 MB per layer at 171).
/// </summary>
public static partial class Attention
{
    /// <summary>
    /// o = attention(q, [prefixK; k], [prefixV; v]) per class: q, k, v [C, S, H·Dh] and prefixK, prefixV [1, P, H·Dh]
    /// (dense last dimension, any row stride); o [C, S, H·Dh] contiguous; <paramref name="logsumexp"/> [C, H, S] when
    /// given, over all P + i + 1 visible keys, for <see cref="BackwardAfterPrefix"/>.
    /// </summary>
    public static void ForwardAfterPrefix(Tensor q, Tensor k, Tensor v, Tensor prefixK, Tensor prefixV, Tensor o, int heads, Tensor? logsumexp = null)
    {
        const string op = "Attention.ForwardAfterPrefix";
        AttentionLayout layout = PrefixOperands.LayoutOf(op, q, k, prefixK, heads);
        Shape.Require(op + " o", [layout.Batch, layout.QueryLength, layout.Width], o.Shape);
        if (logsumexp is not null)
            Shape.Require(op + " logsumexp", [layout.Batch, heads, layout.QueryLength], logsumexp.Shape);
        if (!o.Device.IsCpu)
        {
            ForwardCuda(DeviceOperands.Of(op, layout, o, q, k, v, prefixK, prefixV), o, logsumexp, AttentionPrecision.Float32);
            return;
        }
        PrefixOperands x = PrefixOperands.Of(op, q, k, v, prefixK, prefixV, heads);
        OpGuard.Cpu(op, o);
        if (logsumexp is not null)
            OpGuard.Cpu(op, logsumexp);
        unsafe
        {
            nint output = (nint)o.Pointer<float>(), statistics = logsumexp is null ? 0 : (nint)logsumexp.Pointer<float>();
            ParallelRows.For(heads, (long)x.Rows * x.KeyCount * x.Layout.HeadDim, (start, end) =>
            {
                float[] scratch = Scratch(ref threadScores, Math.Min(x.Rows, QueryBlock(x.KeyCount)) * x.KeyCount);
                fixed (float* scores = scratch)
                    for (int h = start; h < end; h++)
                    {
                        int headDim = x.Layout.HeadDim;
                        PackedMatrix keysT = PackedMatrix.Repack(ref threadKeys,
                            new GemmOperand(x.PrefixK.Head(0, h, headDim), x.PrefixK.RowStride, true), headDim, x.PrefixLength);
                        PackedMatrix valueRows = PackedMatrix.Repack(ref threadValues,
                            new GemmOperand(x.PrefixV.Head(0, h, headDim), x.PrefixV.RowStride, false), x.PrefixLength, headDim);
                        for (int group = 0; group < x.Groups; group++)
                            ForwardAfterPrefixGroup(x, group, h, keysT, valueRows, scores, (float*)output, (float*)statistics);
                    }
            });
        }
    }

    /// <summary>
    /// The input gradients of <see cref="ForwardAfterPrefix"/>: dq, dk, dv [C, S, H·Dh] are written; the prefix's dk and dv
    /// [1, P, H·Dh] are added to, summed over the classes (one task per head, so the sum has a fixed order).
    /// <paramref name="output"/>: the forward's o, when kept (see <see cref="Backward"/>).
    /// </summary>
    public static void BackwardAfterPrefix(Tensor dO, Tensor q, Tensor k, Tensor v, Tensor prefixK, Tensor prefixV, Tensor logsumexp,
        Tensor dq, Tensor dk, Tensor dv, Tensor dPrefixK, Tensor dPrefixV, int heads, Tensor? output = null)
    {
        const string op = "Attention.BackwardAfterPrefix";
        AttentionLayout layout = PrefixOperands.LayoutOf(op, q, k, prefixK, heads);
        PrefixOperands.LayoutOf(op + " gradient", dq, dk, dPrefixK, heads);
        Shape.Require(op + " dO", [layout.Batch, layout.QueryLength, layout.Width], dO.Shape);
        Shape.Require(op + " logsumexp", [layout.Batch, heads, layout.QueryLength], logsumexp.Shape);
        Shape.Require(op + " dq", q.Shape, dq.Shape);
        if (output is not null)
            Shape.Require(op + " output", dO.Shape, output.Shape);
        if (!dO.Device.IsCpu)
        {
            BackwardCuda(DeviceOperands.Of(op, layout, dO, q, k, v, prefixK, prefixV), dO, logsumexp, output, dq, dk, dv, dPrefixK, dPrefixV);
            return;
        }
        PrefixOperands x = PrefixOperands.Of(op, q, k, v, prefixK, prefixV, heads);
        PrefixOperands d = PrefixOperands.Of(op + " gradient", dq, dk, dv, dPrefixK, dPrefixV, heads);
        OpGuard.Cpu(op, dO, logsumexp);
        if (x.Groups != d.Groups)
            throw new ArgumentException($"{op}: q and dq must both stack their batches or both not");
        unsafe
        {
            nint outputGradient = (nint)dO.Pointer<float>(), statistics = (nint)logsumexp.Pointer<float>();
            ParallelRows.For(heads, (long)x.Rows * x.KeyCount * layout.HeadDim * 4, (start, end) =>
            {
                int scoreCount = x.Rows / x.Groups * x.KeyCount;
                float[] probabilityScratch = Scratch(ref threadProbabilities, scoreCount), gradientScratch = Scratch(ref threadScoreGradients, scoreCount);
                fixed (float* probabilities = probabilityScratch, scoreGradients = gradientScratch)
                    for (int h = start; h < end; h++)
                        for (int group = 0; group < x.Groups; group++)
                            BackwardAfterPrefixGroup(x, d, group, h, (float*)outputGradient, (float*)statistics, probabilities, scoreGradients);
            });
        }
    }

    /// <summary>
    /// Head h of one group of classes, whose query rows form one matrix, in blocks of queries as <see cref="ForwardBlock"/>,
    /// against the head's packed prefix keys (Kᵀ) and values.
    /// </summary>
    private static unsafe void ForwardAfterPrefixGroup(PrefixOperands x, int group, int h, PackedMatrix keysT, PackedMatrix valueRows,
        float* scores, float* o, float* logsumexp)
    {
        AttentionLayout layout = x.Layout;
        int length = layout.QueryLength, headDim = layout.HeadDim, prefix = x.PrefixLength, keyCount = x.KeyCount;
        int firstClass = group * x.ClassesPerGroup, rows = x.ClassesPerGroup * length;
        float* queryRows = x.Q.Head(firstClass, h, headDim);
        float* outputRows = o + (long)firstClass * length * layout.Width + (long)h * headDim;
        int block = QueryBlock(keyCount);
        float* inverseSums = stackalloc float[block];
        for (int r0 = 0; r0 < rows; r0 += block)
        {
            int count = Math.Min(block, rows - r0);
            // Scores against the prefix in columns 0..P−1, against the class's own keys in P..P+S−1.
            Sgemm.Multiply(count, layout.Scale, new GemmOperand(queryRows + r0 * x.Q.RowStride, x.Q.RowStride, false), keysT, 0, scores, keyCount);
            for (int r = 0; r < count; r++)
            {
                int c = firstClass + (r0 + r) / length, i = (r0 + r) % length, visible = prefix + i + 1;
                float* row = scores + (long)r * keyCount;
                ReadOnlySpan<float> query = new(queryRows + (r0 + r) * x.Q.RowStride, headDim);
                for (int j = 0; j <= i; j++)
                    row[prefix + j] = layout.Scale * TensorPrimitives.Dot(query, x.K.Row(c, j, h, headDim));
                inverseSums[r] = ExponentiateRow(row, visible, keyCount, out float rowLogsumexp);
                if (logsumexp is not null)
                    logsumexp[((long)c * layout.Heads + h) * length + i] = rowLogsumexp;
            }
            float* outputBlock = outputRows + (long)r0 * layout.Width;
            Sgemm.Multiply(count, 1, new GemmOperand(scores, keyCount, false), valueRows, 0, outputBlock, layout.Width);
            for (int r = 0; r < count; r++)
            {
                int c = firstClass + (r0 + r) / length, i = (r0 + r) % length;
                var outputRow = new Span<float>(outputBlock + (long)r * layout.Width, headDim);
                for (int j = 0; j <= i; j++)
                    TensorPrimitives.MultiplyAdd(x.V.Row(c, j, h, headDim), scores[(long)r * keyCount + prefix + j], outputRow, outputRow);
                TensorPrimitives.Multiply(outputRow, inverseSums[r], outputRow);
            }
        }
    }

    /// <summary>
    /// Head h of one group of classes: P recomputed from the saved logsumexp, dP = dO·[prefixV; v]ᵀ,
    /// dS = P∘(dP − rowsum(P∘dP)); the prefix parts are products over all the group's rows, the own parts dot products.
    /// </summary>
    private static unsafe void BackwardAfterPrefixGroup(PrefixOperands x, PrefixOperands d, int group, int h, float* dO, float* logsumexp, float* p, float* ds)
    {
        AttentionLayout layout = x.Layout;
        int length = layout.QueryLength, headDim = layout.HeadDim, prefix = x.PrefixLength, keyCount = x.KeyCount, width = layout.Width;
        int firstClass = group * x.ClassesPerGroup, classes = x.ClassesPerGroup, rows = classes * length;
        float scale = layout.Scale;
        float* qh = x.Q.Head(firstClass, h, headDim), dqh = d.Q.Head(firstClass, h, headDim);
        float* prefixKeys = x.PrefixK.Head(0, h, headDim), prefixValues = x.PrefixV.Head(0, h, headDim);
        float* dOh = dO + (long)firstClass * length * width + (long)h * headDim;
        Sgemm.Multiply(rows, prefix, headDim, scale, new GemmOperand(qh, x.Q.RowStride, false), new GemmOperand(prefixKeys, x.PrefixK.RowStride, true), 0, p, keyCount);
        Sgemm.Multiply(rows, prefix, headDim, 1, new GemmOperand(dOh, width, false), new GemmOperand(prefixValues, x.PrefixV.RowStride, true), 0, ds, keyCount);
        for (int r = 0; r < rows; r++)
        {
            int c = firstClass + r / length, i = r % length, visible = prefix + i + 1;
            float* probabilities = p + (long)r * keyCount, gradients = ds + (long)r * keyCount;
            ReadOnlySpan<float> query = new(qh + r * x.Q.RowStride, headDim), outputGradient = new(dOh + (long)r * width, headDim);
            for (int j = 0; j <= i; j++)
            {
                probabilities[prefix + j] = scale * TensorPrimitives.Dot(query, x.K.Row(c, j, h, headDim));
                gradients[prefix + j] = TensorPrimitives.Dot(outputGradient, x.V.Row(c, j, h, headDim));
            }
            VectorExp.ExpShifted(probabilities, visible, logsumexp[((long)c * layout.Heads + h) * length + i]);
            new Span<float>(probabilities + visible, keyCount - visible).Clear();
            // The own part of dP was computed only up to i: its masked rest may hold anything, so it is cleared too.
            new Span<float>(gradients + visible, keyCount - visible).Clear();
            ScoreGradientRow(new ReadOnlySpan<float>(probabilities, keyCount), new Span<float>(gradients, keyCount));
        }
        // dQ = scale·dS·[prefixK; k]: the prefix part as one product, each row's own keys added.
        Sgemm.Multiply(rows, headDim, prefix, scale, new GemmOperand(ds, keyCount, false), new GemmOperand(prefixKeys, x.PrefixK.RowStride, false), 0, dqh, d.Q.RowStride);
        // The prefix's dK = scale·dSᵀ·Q and dV = Pᵀ·dO sum over every row of the group, i.e. over its classes.
        Sgemm.Multiply(prefix, headDim, rows, scale, new GemmOperand(ds, keyCount, true), new GemmOperand(qh, x.Q.RowStride, false), 1,
            d.PrefixK.Head(0, h, headDim), d.PrefixK.RowStride);
        Sgemm.Multiply(prefix, headDim, rows, 1, new GemmOperand(p, keyCount, true), new GemmOperand(dOh, width, false), 1,
            d.PrefixV.Head(0, h, headDim), d.PrefixV.RowStride);
        for (int c = firstClass; c < firstClass + classes; c++)
        {
            for (int j = 0; j < length; j++)
            {
                d.K.Row(c, j, h, headDim).Clear();
                d.V.Row(c, j, h, headDim).Clear();
            }
            for (int i = 0; i < length; i++)
            {
                long r = (long)(c - firstClass) * length + i;
                Span<float> queryGradient = d.Q.Row(c, i, h, headDim);
                ReadOnlySpan<float> query = x.Q.Row(c, i, h, headDim), outputGradient = new(dOh + r * width, headDim);
                for (int j = 0; j <= i; j++)
                {
                    float scoreGradient = scale * ds[r * keyCount + prefix + j];
                    TensorPrimitives.MultiplyAdd(x.K.Row(c, j, h, headDim), scoreGradient, queryGradient, queryGradient);
                    Span<float> keyGradient = d.K.Row(c, j, h, headDim), valueGradient = d.V.Row(c, j, h, headDim);
                    TensorPrimitives.MultiplyAdd(query, scoreGradient, keyGradient, keyGradient);
                    TensorPrimitives.MultiplyAdd(outputGradient, p[r * keyCount + prefix + j], valueGradient, valueGradient);
                }
            }
        }
    }

    /// <summary>
    /// The operands of the prefix form, checked: the own part's layout (C classes of S causal positions, offset 0),
    /// the prefix's rows, and how the classes group into stacked query matrices (all in one when q's rows stack).
    /// </summary>
    private readonly record struct PrefixOperands(AttentionLayout Layout, TokenRows Q, TokenRows K, TokenRows V, TokenRows PrefixK, TokenRows PrefixV,
        int PrefixLength, int Groups)
    {
        public int KeyCount => PrefixLength + Layout.QueryLength;

        public int ClassesPerGroup => Layout.Batch / Groups;

        public int Rows => Layout.Batch * Layout.QueryLength;

        /// <summary>The own part's layout, checked against the prefix's shape (on any device).</summary>
        public static AttentionLayout LayoutOf(string op, Tensor q, Tensor k, Tensor prefixK, int heads)
        {
            AttentionLayout layout = AttentionLayout.Of(op, q, k, heads, causal: true, queryOffset: 0);
            if (layout.KeyBatch != layout.Batch || k.Size(1) != q.Size(1))
                throw new TensorShapeException($"{op}: every class needs its own keys for its own positions: q {Shape.Format(q.Shape)}, k {Shape.Format(k.Shape)}");
            if (prefixK.Rank != 3 || prefixK.Size(0) != 1 || prefixK.Size(1) == 0)
                throw new TensorShapeException($"{op}: prefix keys {Shape.Format(prefixK.Shape)} must be [1, P, {layout.Width}] with P ≥ 1");
            return layout;
        }

        public static PrefixOperands Of(string op, Tensor q, Tensor k, Tensor v, Tensor prefixK, Tensor prefixV, int heads)
        {
            AttentionLayout layout = LayoutOf(op, q, k, prefixK, heads);
            int batch = layout.Batch, length = layout.QueryLength, width = layout.Width, prefix = prefixK.Size(1);
            TokenRows queries = AttentionLayout.Rows(op + " q", q, batch, length, width);
            return new PrefixOperands(layout, queries, AttentionLayout.Rows(op + " k", k, batch, length, width),
                AttentionLayout.Rows(op + " v", v, batch, length, width), AttentionLayout.Rows(op + " prefix k", prefixK, 1, prefix, width),
                AttentionLayout.Rows(op + " prefix v", prefixV, 1, prefix, width), prefix, queries.Stacks(length) ? 1 : batch);
        }
    }
}
