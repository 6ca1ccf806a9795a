using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

public static partial class MaskedPoolingLoss
{
    /// <summary>
    /// A batch's loss and mask gradient in one call, as a training step needs them: Σ_b L_b added to
    /// <paramref name="total"/> (a running double, see <see cref="NewTotal"/>) and dMask [B, N, C] for ∂loss/∂L_b =
    /// <paramref name="gradLoss"/> (1/B under spec §7's batch rule). features [B, N, E], mask [B, N, C], hypotheses[b]
    /// image b's class list, text [C, E]. On the CPU image by image through <see cref="Forward"/> and <see cref="Backward"/>
    /// (the same bits as calling them); on a GPU the whole batch at once over all C classes of every image, the hypotheses
    /// as a membership mask (kernels/maskedpoolingloss.cu): a fixed number of launches, none of them waiting for the host.
    /// <paramref name="membership"/>, on a GPU: <see cref="Membership"/> of the same lists in an i32 [B, C] tensor there,
    /// read instead of a copy made here (a step replayed as a CUDA graph rewrites it before each replay).
    /// </summary>
    public static unsafe void ForwardBackward(Tensor features, Tensor mask, IReadOnlyList<int[]> hypotheses, Tensor text, Tensor total, Tensor dMask,
        float gradLoss, float logitScale = DefaultLogitScale, Tensor? membership = null)
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
        int[] members = Membership(hypotheses, classCount);
        if (!dMask.Device.IsCpu)
        {
            if (membership is not null)
                Shape.Require("MaskedPoolingLoss membership", [batch, classCount], membership.Shape);
            ForwardBackwardCuda(features, mask, members, membership, text, total, dMask, gradLoss, logitScale, batch, patches, classCount, width);
            return;
        }
        OpGuard.Cpu("MaskedPoolingLoss total", total);
        for (int b = 0; b < batch; b++)
        {
            int[] classes = hypotheses[b];
            using Tensor f = features.Slice(0, b, 1).Reshape(patches, width);
            using Tensor m = mask.Slice(0, b, 1).Reshape(patches, classCount);
            using Tensor dm = dMask.Slice(0, b, 1).Reshape(patches, classCount);
            using Tensor probabilities = Tensor.Empty([classes.Length, classCount]);
            // In image order, each image's float loss into the double, as the head always summed them.
            *(double*)total.Pointer<float>() += Forward(f, m, classes, text, probabilities, logitScale);
            Backward(f, text, classes, probabilities, dm, gradLoss, logitScale);
        }
    }

    /// <summary>
    /// members [B·C]: 1 where class c is in image b's hypothesis, else 0, after checking every list (distinct ids in
    /// 0..C−1, as <see cref="Forward"/> requires).
    /// </summary>
    public static int[] Membership(IReadOnlyList<int[]> hypotheses, int classCount)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        var members = new int[hypotheses.Count * classCount];
        for (int b = 0; b < hypotheses.Count; b++)
        {
            int[] classes = hypotheses[b] ?? throw new ArgumentException($"MaskedPoolingLoss: image {b} has no hypothesis list", nameof(hypotheses));
            foreach (int c in classes)
            {
                if ((uint)c >= (uint)classCount)
                    throw new ArgumentOutOfRangeException(nameof(hypotheses), $"MaskedPoolingLoss: hypothesis class {c} of image {b} is outside 0..{classCount - 1}");
                if (members[b * classCount + c] != 0)
                    throw new ArgumentException($"MaskedPoolingLoss: image {b}'s hypothesis lists class {c} twice", nameof(hypotheses));
                members[b * classCount + c] = 1;
            }
        }
        return members;
    }
}
