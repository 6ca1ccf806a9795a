using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The input gradients of attention. With P = softmax(S), S = scale·Q·Kᵀ (masked) and O = P·V:
/// dV = Pᵀ·dO; dP = dO·Vᵀ; dS = P∘(dP − rowsum(P∘dP)); dQ = scale·dS·K; dK = scale·dSᵀ·Q.
/// rowsum(P∘dP) equals rowsum(dO∘O), the form FlashAttention uses; taking it from P and dP means the
/// forward output O need not be kept. When k and v are shared by every query batch (Bk = 1), dk and dv
/// sum over the query batch, which is how the shared prompt prefix gathers the gradients of all classes (spec §2.2).
/// </summary>
public static partial class Attention
{
    [ThreadStatic] private static float[]? threadProbabilities;
    [ThreadStatic] private static float[]? threadScoreGradients;

    /// <summary>The definition of the backward pass, in double, recomputing P from q and k (layouts as in <see cref="Reference"/>).</summary>
    public static void BackwardReference(ReadOnlySpan<float> dO, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        Span<float> dq, Span<float> dk, Span<float> dv, int batch, int queryLength, int keyLength, int heads, bool causal, int queryOffset = 0)
    {
        AttentionLayout layout = AttentionLayout.Of("Attention.BackwardReference", q.Length, k.Length, batch, queryLength, keyLength, heads, causal, queryOffset);
        int width = layout.Width, headDim = layout.HeadDim;
        double scale = 1 / Math.Sqrt(headDim);
        double[] p = new double[keyLength], dp = new double[keyLength];
        double[] keyGradient = new double[k.Length], valueGradient = new double[v.Length];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < queryLength; i++)
                {
                    int qRow = (b * queryLength + i) * width + h * headDim;
                    int keyBase = layout.KeyBatchOf(b) * keyLength * width + h * headDim;
                    int visible = layout.VisibleKeys(i);
                    double max = double.NegativeInfinity, sum = 0, weighted = 0;
                    for (int j = 0; j < visible; j++)
                    {
                        double dot = 0, gradientDot = 0;
                        for (int d = 0; d < headDim; d++)
                        {
                            dot += (double)q[qRow + d] * k[keyBase + j * width + d];
                            gradientDot += (double)dO[qRow + d] * v[keyBase + j * width + d];
                        }
                        p[j] = dot * scale;
                        dp[j] = gradientDot;
                        max = Math.Max(max, p[j]);
                    }
                    for (int j = 0; j < visible; j++)
                    {
                        p[j] = Math.Exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int j = 0; j < visible; j++)
                    {
                        p[j] /= sum;
                        weighted += p[j] * dp[j];
                    }
                    for (int d = 0; d < headDim; d++)
                    {
                        double queryGradient = 0;
                        for (int j = 0; j < visible; j++)
                        {
                            double ds = p[j] * (dp[j] - weighted);
                            queryGradient += ds * scale * k[keyBase + j * width + d];
                            keyGradient[keyBase + j * width + d] += ds * scale * q[qRow + d];
                            valueGradient[keyBase + j * width + d] += p[j] * dO[qRow + d];
                        }
                        dq[qRow + d] = (float)queryGradient;
                    }
                }
        for (int i = 0; i < keyGradient.Length; i++)
        {
            dk[i] = (float)keyGradient[i];
            dv[i] = (float)valueGradient[i];
        }
    }

    /// <summary>
    /// dq, dk, dv from dO [B, Tq, H·Dh] (contiguous) and the forward's logsumexp [B, H, Tq]. q, k, v are the
    /// forward's inputs; dq, dk, dv have their shapes and may be strided views too (e.g. of a packed
    /// [B, T, 3·H·Dh] gradient buffer that the in-projection's backward consumes in one GEMM), not overlapping.
    /// <paramref name="output"/>: the forward's o [B, Tq, H·Dh] (contiguous), when kept. The CUDA kernels then take each
    /// row's D = Σ P∘dP as dO·o (the same sum, as FlashAttention-2 takes it) instead of a pass over the keys; the CPU
    /// path has P and dP from its GEMMs anyway and takes D from them.
    /// </summary>
    public static void Backward(Tensor dO, Tensor q, Tensor k, Tensor v, Tensor logsumexp, Tensor dq, Tensor dk, Tensor dv,
        int heads, bool causal, int queryOffset = 0, Tensor? output = null)
    {
        const string op = "Attention.Backward";
        AttentionLayout layout = AttentionLayout.Of(op, q, k, heads, causal, queryOffset);
        int batch = layout.Batch, keyBatch = layout.KeyBatch, queryLength = layout.QueryLength, keyLength = layout.KeyLength, width = layout.Width;
        Shape.Require(op + " dO", [batch, queryLength, width], dO.Shape);
        Shape.Require(op + " logsumexp", [batch, heads, queryLength], logsumexp.Shape);
        if (output is not null)
            Shape.Require(op + " output", [batch, queryLength, width], output.Shape);
        if (!dO.Device.IsCpu)
        {
            BackwardCuda(DeviceOperands.Of(op, layout, dO, q, k, v, null, null), dO, logsumexp, output, dq, dk, dv, null, null);
            return;
        }
        TokenRows queries = AttentionLayout.Rows(op + " q", q, batch, queryLength, width);
        TokenRows keys = AttentionLayout.Rows(op + " k", k, keyBatch, keyLength, width);
        TokenRows values = AttentionLayout.Rows(op + " v", v, keyBatch, keyLength, width);
        TokenRows queryGradient = AttentionLayout.Rows(op + " dq", dq, batch, queryLength, width);
        TokenRows keyGradient = AttentionLayout.Rows(op + " dk", dk, keyBatch, keyLength, width);
        TokenRows valueGradient = AttentionLayout.Rows(op + " dv", dv, keyBatch, keyLength, width);
        OpGuard.Cpu(op, dO, logsumexp);
        // Shared keys (Bk = 1): when the query rows of all batches form one matrix, each head is one block whose
        // GEMMs sum dk and dv over the batch themselves; otherwise the batches of a head run one by one, adding up.
        int blockBatches = keyBatch == 1 && queries.Stacks(queryLength) && queryGradient.Stacks(queryLength) ? batch : 1;
        int blockRows = blockBatches * queryLength;
        unsafe
        {
            nint outputGradient = (nint)dO.Pointer<float>(), statistics = (nint)logsumexp.Pointer<float>();
            // One task per (key batch, head): with shared keys one task gathers all of a head's dk and dv, so no two
            // threads write the same rows and the sum is in a fixed order (deterministic).
            ParallelRows.For(keyBatch * heads, (long)batch / keyBatch * queryLength * keyLength * layout.HeadDim * 4, (start, end) =>
            {
                int scoreCount = blockRows * keyLength;
                float[] probabilityScratch = Scratch(ref threadProbabilities, scoreCount), gradientScratch = Scratch(ref threadScoreGradients, scoreCount);
                fixed (float* probabilities = probabilityScratch, scoreGradients = gradientScratch)
                    for (int task = start; task < end; task++)
                    {
                        int h = task % heads, firstBatch = task / heads, lastBatch = keyBatch == 1 ? batch : firstBatch + 1;
                        for (int b = firstBatch; b < lastBatch; b += blockBatches)
                            BackwardBlock(layout, queries, keys, values, queryGradient, keyGradient, valueGradient, b, blockBatches, h,
                                accumulate: b != firstBatch, (float*)outputGradient, (float*)statistics, probabilities, scoreGradients);
                    }
            });
        }
    }

    /// <summary>
    /// dS = P∘(dP − Σ P∘dP) of one row, in place in <paramref name="gradients"/> (dP in, dS out); masked keys have P = 0,
    /// so their dS is 0 too. The scale goes into the products that use dS.
    /// </summary>
    private static void ScoreGradientRow(ReadOnlySpan<float> probabilities, Span<float> gradients)
    {
        float weighted = TensorPrimitives.Dot(probabilities, gradients);
        TensorPrimitives.AddMultiply(gradients, -weighted, probabilities, gradients);
    }

    /// <summary>Head h of query batches firstBatch..firstBatch+batches−1 (one matrix of rows); <paramref name="accumulate"/> adds into dk, dv.</summary>
    private static unsafe void BackwardBlock(AttentionLayout layout, TokenRows q, TokenRows k, TokenRows v, TokenRows dq, TokenRows dk, TokenRows dv,
        int firstBatch, int batches, int h, bool accumulate, float* dO, float* logsumexp, float* p, float* ds)
    {
        int queryLength = layout.QueryLength, keyLength = layout.KeyLength, headDim = layout.HeadDim, rows = batches * queryLength;
        int keyBatch = layout.KeyBatchOf(firstBatch);
        float* qh = q.Head(firstBatch, h, headDim), kh = k.Head(keyBatch, h, headDim), vh = v.Head(keyBatch, h, headDim);
        float* dOh = dO + (long)firstBatch * queryLength * layout.Width + (long)h * headDim;
        float scale = layout.Scale;
        // P = exp(scale·Q·Kᵀ − logsumexp) recomputes the forward's probabilities; dP = dO·Vᵀ.
        Sgemm.Multiply(rows, keyLength, headDim, scale, new GemmOperand(qh, q.RowStride, false), new GemmOperand(kh, k.RowStride, true), 0, p, keyLength);
        Sgemm.Multiply(rows, keyLength, headDim, 1, new GemmOperand(dOh, layout.Width, false), new GemmOperand(vh, v.RowStride, true), 0, ds, keyLength);
        for (int r = 0; r < rows; r++)
        {
            var probabilities = new Span<float>(p + (long)r * keyLength, keyLength);
            var gradients = new Span<float>(ds + (long)r * keyLength, keyLength);
            int i = r % queryLength, visible = layout.VisibleKeys(i);
            VectorExp.ExpShifted(p + (long)r * keyLength, visible, logsumexp[((long)(firstBatch + r / queryLength) * layout.Heads + h) * queryLength + i]);
            probabilities[visible..].Clear();
            ScoreGradientRow(probabilities, gradients);
        }
        float beta = accumulate ? 1 : 0;
        Sgemm.Multiply(rows, headDim, keyLength, scale, new GemmOperand(ds, keyLength, false), new GemmOperand(kh, k.RowStride, false),
            0, dq.Head(firstBatch, h, headDim), dq.RowStride);
        Sgemm.Multiply(keyLength, headDim, rows, scale, new GemmOperand(ds, keyLength, true), new GemmOperand(qh, q.RowStride, false),
            beta, dk.Head(keyBatch, h, headDim), dk.RowStride);
        Sgemm.Multiply(keyLength, headDim, rows, 1, new GemmOperand(p, keyLength, true), new GemmOperand(dOh, layout.Width, false),
            beta, dv.Head(keyBatch, h, headDim), dv.RowStride);
    }
}
