using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

public static partial class MaskedPoolingLoss
{
    /// <summary>
    /// A batch's loss and mask gradient in one call, as a training step needs them: Σ_b L_b added to
    /// <paramref name="total"/> (a running double, see <see cref="Accumulate"/>) and dMask [B, N, C] for ∂loss/∂L_b =
    /// <paramref name="gradLoss"/> (1/B under spec §7's batch rule). features [B, N, E], mask [B, N, C], hypotheses[b]
    /// image b's class list, text [C, E]. On the CPU image by image through <see cref="Accumulate"/> and <see cref="Backward"/>
    /// (the same bits as calling them); on a GPU the whole batch at once over all C classes of every image, the hypotheses
    /// as a membership mask (kernels/maskedpoolingloss.cu): a fixed number of launches, none of them waiting for the host.
    /// </summary>
    public static void ForwardBackward(Tensor features, Tensor mask, IReadOnlyList<int[]> hypotheses, Tensor text, Tensor total, Tensor dMask,
        float gradLoss, float logitScale = DefaultLogitScale)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(dMask);
        if (features.Rank != 3 || mask.Rank != 3 || text.Rank != 2)
            throw new TensorShapeException($"MaskedPoolingLoss: expected features [B,N,E], mask [B,N,C] and text [C,E]; got {Shape.Format(features.Shape)}, {Shape.Format(mask.Shape)}, {Shape.Format(text.Shape)}");
        int batch = features.Size(0), patches = features.Size(1), width = features.Size(2), classCount = text.Size(0);
        Shape.Require("MaskedPoolingLoss mask", [batch, patches, classCount], mask.Shape);
        Shape.Require("MaskedPoolingLoss dMask", mask.Shape, dMask.Shape);
        Shape.Require("MaskedPoolingLoss total", [2], total.Shape);
        if (hypotheses.Count != batch)
            throw new ArgumentException($"MaskedPoolingLoss: {hypotheses.Count} hypothesis lists for a batch of {batch} images", nameof(hypotheses));
        for (int b = 0; b < batch; b++)
        {
            int[] classes = hypotheses[b] ?? throw new ArgumentException($"MaskedPoolingLoss: image {b} has no hypothesis list", nameof(hypotheses));
            using Tensor f = features.Slice(0, b, 1).Reshape(patches, width);
            Sizes("MaskedPoolingLoss", f, [patches, classCount], text, classes);
        }
        if (!dMask.Device.IsCpu)
        {
            ForwardBackwardCuda(features, mask, hypotheses, text, total, dMask, gradLoss, logitScale, batch, patches, classCount, width);
            return;
        }
        for (int b = 0; b < batch; b++)
        {
            int[] classes = hypotheses[b];
            using Tensor f = features.Slice(0, b, 1).Reshape(patches, width);
            using Tensor m = mask.Slice(0, b, 1).Reshape(patches, classCount);
            using Tensor dm = dMask.Slice(0, b, 1).Reshape(patches, classCount);
            using Tensor probabilities = Tensor.Empty([classes.Length, classCount]);
            Accumulate(f, m, classes, text, probabilities, total, logitScale);
            Backward(f, text, classes, probabilities, dm, gradLoss, logitScale);
        }
    }
}
