using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Eval;

/// <summary>
/// MaskCLIP's prompt-denoising filter as ReCLIP++'s <c>tools/test.py</c> applies it at test time (spec §10 step 3):
/// P = softmax(10·O) over classes at each patch of the patch-grid logits O; a class whose largest P over all
/// patches is below the threshold (TEST.PD) gets logit −100 at every patch. It acts before any upsampling.
/// <para>
/// With VOC's PD = 1.0 a class survives only where P rounds to exactly 1.0 in float32: the top class's P is
/// 1/S with S = Σ exp(10·(O_j − max O)), so S must round to 1.0, i.e. every other term must be ≤ 2⁻²⁴ (a logit
/// margin Δ ≳ 1.66) and, where the small terms are summed among themselves first, so must their total
/// (Δ up to ≈ 1.66 + ln(C−1)/10). The Softmax op computes this in float32 as PyTorch does (max-subtracted
/// exponentials, a float32 sum, a division); patches at that boundary depend on the summation order, which
/// PyTorch does not document, so they alone may differ from the reference.
/// </para>
/// </summary>
public static class PromptDenoising
{
    /// <summary>The temperature of the filter's softmax (MaskCLIP's 10·O).</summary>
    public const float Scale = 10;

    /// <summary>The logit given to a removed class at every patch.</summary>
    public const float RemovedLogit = -100;

    /// <summary>
    /// Applies the filter in place to logits [C, h, w] or [1, C, h, w] (float32, CPU) and returns which classes
    /// were kept. A class whose maximum is NaN is kept (NaN &lt; PD is false, as in the reference's mask).
    /// </summary>
    public static bool[] Apply(Tensor logits, float threshold)
    {
        float[] maxima = ClassMaxima(logits);
        bool[] kept = new bool[maxima.Length];
        Span<float> values = logits.AsSpan<float>();
        int plane = values.Length / maxima.Length;
        for (int c = 0; c < maxima.Length; c++)
        {
            kept[c] = !(maxima[c] < threshold);
            if (!kept[c])
                values.Slice(c * plane, plane).Fill(RemovedLogit);
        }
        return kept;
    }

    /// <summary>For each class, max over patches of softmax(10·O) over classes, in float32.</summary>
    public static float[] ClassMaxima(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank is not (3 or 4) || (logits.Rank == 4 && logits.Size(0) != 1))
            throw new TensorShapeException($"PromptDenoising: logits {Shape.Format(logits.Shape)} are neither [C, h, w] nor [1, C, h, w]");
        int classes = logits.Size(-3), patches = logits.Size(-2) * logits.Size(-1);
        // The Softmax op reduces the last dimension, so the classes-first map is copied to [patches, C].
        using Tensor planes = logits.Reshape(classes, patches);
        using Tensor transposed = planes.Transpose(0, 1);
        using Tensor probabilities = transposed.Contiguous();
        Softmax.Forward(probabilities, probabilities, Scale);
        ReadOnlySpan<float> p = probabilities.AsSpan<float>();
        float[] maxima = new float[classes];
        maxima.AsSpan().Fill(float.NegativeInfinity);
        for (int patch = 0; patch < patches; patch++)
            for (int c = 0; c < classes; c++)
            {
                float value = p[patch * classes + c];
                // torch.max propagates NaN; so does this.
                if (value > maxima[c] || float.IsNaN(value))
                    maxima[c] = float.IsNaN(maxima[c]) ? maxima[c] : value;
            }
        return maxima;
    }
}
