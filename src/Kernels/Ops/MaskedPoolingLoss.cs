using System.Runtime.InteropServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The ReCLIP++ training loss of one image (spec §7). With patch features F [N,E] (unit rows, constant),
/// the Gumbel mask [N,C] (spec §6), the hypothesis class list S (distinct ids, §8) and the Query text
/// features T [C,E]: for i ∈ S the pooled feature p_i = (1/N)·Σ_n mask[n,i]·F[n,:] (mean over all N
/// patches, not renormalised), logits z_i = logitScale·p_i·Tᵀ over all C classes, and
/// L = mean_{i∈S} CE(z_i, target i). An empty S gives L = 0 and a zero gradient.
/// Batch rule (§7): the batch loss is (Σ_j L_j)/B over the B images, an image with empty S counting in B;
/// the caller sums the per-image losses and passes gradLoss = 1/B to <see cref="Backward"/>.
/// Backward gives dmask only (F and T are constant); columns outside S are zero. The forward saves the
/// softmax probabilities [|S|, C], which is all the backward needs besides F and T.
/// </summary>
public static partial class MaskedPoolingLoss
{
    /// <summary>exp of CLIP's trained logit scale, spec §7.</summary>
    public const float DefaultLogitScale = 100;

    /// <summary>The definition, in double. features [N·E], mask [N·C], text [C·E]; probabilities [|S|·C] receives the softmax rows.</summary>
    public static float Reference(ReadOnlySpan<float> features, ReadOnlySpan<float> mask, ReadOnlySpan<int> classes, ReadOnlySpan<float> text,
        int classCount, Span<float> probabilities, float logitScale = DefaultLogitScale)
    {
        if (classes.IsEmpty) return 0;
        int patches = mask.Length / classCount, width = text.Length / classCount;
        double[] pooled = new double[width], logits = new double[classCount];
        double total = 0;
        for (int s = 0; s < classes.Length; s++)
        {
            int target = classes[s];
            Array.Clear(pooled);
            for (int n = 0; n < patches; n++)
                for (int e = 0; e < width; e++)
                    pooled[e] += (double)mask[n * classCount + target] * features[n * width + e];
            double max = double.NegativeInfinity, sum = 0;
            for (int c = 0; c < classCount; c++)
            {
                double dot = 0;
                for (int e = 0; e < width; e++)
                    dot += pooled[e] / patches * text[c * width + e];
                logits[c] = logitScale * dot;
                max = Math.Max(max, logits[c]);
            }
            for (int c = 0; c < classCount; c++)
                sum += Math.Exp(logits[c] - max);
            for (int c = 0; c < classCount; c++)
                probabilities[s * classCount + c] = (float)(Math.Exp(logits[c] - max) / sum);
            total += max + Math.Log(sum) - logits[target];
        }
        return (float)(total / classes.Length);
    }

    /// <summary>
    /// The definition of the backward pass, in double: dz_i = gradLoss/|S|·(softmax(z_i) − onehot(i)),
    /// dp_i = logitScale·dz_i·T, dmask[n,i] = (1/N)·⟨F[n,:], dp_i⟩ for i ∈ S, zero elsewhere.
    /// </summary>
    public static void BackwardReference(ReadOnlySpan<float> features, ReadOnlySpan<float> text, ReadOnlySpan<int> classes,
        ReadOnlySpan<float> probabilities, Span<float> dMask, int classCount, float gradLoss = 1, float logitScale = DefaultLogitScale)
    {
        dMask.Clear();
        if (classes.IsEmpty) return;
        int patches = dMask.Length / classCount, width = text.Length / classCount;
        double[] dPooled = new double[width];
        for (int s = 0; s < classes.Length; s++)
        {
            int target = classes[s];
            Array.Clear(dPooled);
            for (int c = 0; c < classCount; c++)
            {
                double dz = (double)gradLoss / classes.Length * (probabilities[s * classCount + c] - (c == target ? 1.0 : 0.0));
                for (int e = 0; e < width; e++)
                    dPooled[e] += logitScale * dz * text[c * width + e];
            }
            for (int n = 0; n < patches; n++)
            {
                double dot = 0;
                for (int e = 0; e < width; e++)
                    dot += features[n * width + e] * dPooled[e];
                dMask[n * classCount + target] = (float)(dot / patches);
            }
        }
    }

    /// <summary>L for one image; <paramref name="probabilities"/> ([|S|, C]) receives the softmax rows the backward needs.</summary>
    public static unsafe float Forward(Tensor features, Tensor mask, ReadOnlySpan<int> classes, Tensor text, Tensor probabilities,
        float logitScale = DefaultLogitScale)
    {
        (int patches, int classCount, int width) = Sizes("MaskedPoolingLoss", features, mask.Shape, text, classes);
        Shape.Require("MaskedPoolingLoss probabilities", [classes.Length, classCount], probabilities.Shape);
        int count = classes.Length;
        if (count == 0) return 0;
        if (!probabilities.Device.IsCpu)
            return ForwardCuda(features, mask, classes, text, probabilities, logitScale, patches, classCount, width);
        OpGuard.Cpu("MaskedPoolingLoss", features, mask, text, probabilities);
        float* pm = mask.Pointer<float>(), pf = features.Pointer<float>(), pt = text.Pointer<float>(), pp = probabilities.Pointer<float>();
        // Only the |S| hypothesis columns of the mask are pooled: gather them into [N, |S|] so one GEMM
        // gives every p_i, instead of pooling all C columns.
        float[] columns = new float[patches * count], pooled = new float[count * width];
        for (int n = 0; n < patches; n++)
            for (int s = 0; s < count; s++)
                columns[n * count + s] = pm[(long)n * classCount + classes[s]];
        fixed (float* pc = columns, pq = pooled)
        {
            // pooled [|S|,E] = (1/N)·columnsᵀ·F;  logits [|S|,C] = logitScale·pooled·Tᵀ (into the probabilities buffer).
            Sgemm.Multiply(count, width, patches, 1f / patches, new GemmOperand(pc, count, true), new GemmOperand(pf, width, false), 0, pq, width);
            Sgemm.Multiply(count, classCount, width, logitScale, new GemmOperand(pq, width, false), new GemmOperand(pt, width, true), 0, pp, classCount);
        }
        double total = 0;
        for (int s = 0; s < count; s++)
        {
            var row = new Span<float>(pp + (long)s * classCount, classCount);
            float max = TensorPrimitives.Max(row);
            float target = row[classes[s]];
            TensorPrimitives.Subtract(row, max, row);
            TensorPrimitives.Exp(row, row);
            float sum = TensorPrimitives.Sum(row);
            TensorPrimitives.Multiply(row, 1 / sum, row);
            // −log softmax(z)[i] = max + log Σ exp(z − max) − z_i, the stable form.
            total += max + Math.Log(sum) - target;
        }
        return (float)(total / count);
    }

    /// <summary>
    /// A running sum of zero on <paramref name="device"/> for <see cref="ForwardBackward"/>: one double kept in an f32 [2]
    /// tensor, so that on a GPU the batch's loss stays there until <see cref="ReadTotal"/>.
    /// </summary>
    public static Tensor NewTotal(Device device) => Tensor.Zeros([2], DType.F32, device);

    /// <summary>The sum <see cref="ForwardBackward"/> has built (on a GPU, after waiting for it).</summary>
    public static double ReadTotal(Tensor total)
    {
        ArgumentNullException.ThrowIfNull(total);
        Shape.Require("MaskedPoolingLoss total", [2], total.Shape);
        return ReadTotal(total.ToFloatArray());
    }

    /// <summary>The sum in a total's two words, copied to the host with something else.</summary>
    public static double ReadTotal(ReadOnlySpan<float> words) =>
        words.Length == 2 ? MemoryMarshal.Cast<float, double>(words)[0]
        : throw new ArgumentException($"MaskedPoolingLoss total: {words.Length} words, not 2", nameof(words));

    /// <summary>dMask [N,C] from the saved probabilities; gradLoss is ∂(batch loss)/∂L, 1/B under the batch rule of spec §7.</summary>
    public static unsafe void Backward(Tensor features, Tensor text, ReadOnlySpan<int> classes, Tensor probabilities, Tensor dMask,
        float gradLoss = 1, float logitScale = DefaultLogitScale)
    {
        (int patches, int classCount, int width) = Sizes("MaskedPoolingLoss.Backward", features, dMask.Shape, text, classes);
        Shape.Require("MaskedPoolingLoss.Backward probabilities", [classes.Length, classCount], probabilities.Shape);
        if (!dMask.Device.IsCpu)
        {
            BackwardCuda(features, text, classes, probabilities, dMask, gradLoss, logitScale, patches, classCount, width);
            return;
        }
        OpGuard.Cpu("MaskedPoolingLoss.Backward", features, text, probabilities, dMask);
        Span<float> output = dMask.AsSpan<float>();
        output.Clear();
        int count = classes.Length;
        if (count == 0) return;
        float* pf = features.Pointer<float>(), pt = text.Pointer<float>(), pp = probabilities.Pointer<float>(), pd = dMask.Pointer<float>();
        float[] dLogits = new float[count * classCount], dPooled = new float[count * width], dColumns = new float[patches * count];
        new ReadOnlySpan<float>(pp, count * classCount).CopyTo(dLogits);
        for (int s = 0; s < count; s++)
            dLogits[s * classCount + classes[s]] -= 1;
        fixed (float* pz = dLogits, pq = dPooled, pc = dColumns)
        {
            // dz = (gradLoss/|S|)·(P − onehot) is folded into alpha; dp [|S|,E] = logitScale·dz·T; dcolumns [N,|S|] = (1/N)·F·dpᵀ.
            Sgemm.Multiply(count, width, classCount, logitScale * gradLoss / count, new GemmOperand(pz, classCount, false), new GemmOperand(pt, width, false), 0, pq, width);
            Sgemm.Multiply(patches, count, width, 1f / patches, new GemmOperand(pf, width, false), new GemmOperand(pq, width, true), 0, pc, count);
        }
        for (int n = 0; n < patches; n++)
            for (int s = 0; s < count; s++)
                pd[(long)n * classCount + classes[s]] = dColumns[n * count + s];
    }

    /// <summary>Checks features [N,E], mask/dMask [N,C], text [C,E] and that the class ids are distinct and in range; returns (N, C, E).</summary>
    private static (int Patches, int Classes, int Width) Sizes(string op, Tensor features, ReadOnlySpan<int> maskShape, Tensor text, ReadOnlySpan<int> classes)
    {
        if (features.Rank != 2 || maskShape.Length != 2 || text.Rank != 2)
            throw new TensorShapeException($"{op}: expected features [N,E], mask [N,C] and text [C,E]; got {Shape.Format(features.Shape)}, {Shape.Format(maskShape)}, {Shape.Format(text.Shape)}");
        int patches = features.Size(0), width = features.Size(1), classCount = text.Size(0);
        Shape.Require(op + " mask", [patches, classCount], maskShape);
        Shape.Require(op + " text", [classCount, width], text.Shape);
        for (int s = 0; s < classes.Length; s++)
        {
            if ((uint)classes[s] >= (uint)classCount)
                throw new ArgumentOutOfRangeException(nameof(classes), $"{op}: hypothesis class {classes[s]} is outside 0..{classCount - 1}");
            if (classes[..s].Contains(classes[s]))
                throw new ArgumentException($"{op}: hypothesis class {classes[s]} appears twice; the list must hold distinct ids", nameof(classes));
        }
        return (patches, classCount, width);
    }
}
