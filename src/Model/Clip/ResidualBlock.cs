using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// CLIP's residual attention block, shared by both towers (pre-norm):
///   x ← x + out_proj(attention(in_proj(ln_1(x))));  x ← x + c_proj(QuickGELU(c_fc(ln_2(x)))).
/// Heads are width / 64. LayerNorm eps is a parameter: 1e-6 for the visual blocks in the ReCLIP++
/// setting (spec §4.2), 1e-5 everywhere else. The text tower also needs the input-gradient backward
/// (the Reference prompt's context vectors learn through the frozen blocks, spec §2.2).
/// </summary>
public static class ResidualBlock
{
    /// <summary>CLIP's LayerNorm eps (torch's default), used wherever spec §4.2 does not override it.</summary>
    public const float DefaultEps = 1e-5f;

    /// <summary>The ReCLIP++ override for ln_1/ln_2 of every visual block (spec §4.2).</summary>
    public const float MaskClipVisualEps = 1e-6f;

    /// <summary>The attention step of a block: packed qkv [B, T, 3D] into o [B, T, D], with its logsumexp when one is kept.</summary>
    internal delegate void AttentionStep(Tensor qkv, Tensor o, Tensor? logsumexp);

    /// <summary>The input gradients of an <see cref="AttentionStep"/>: dqkv [B, T, 3D] from dy (d o) and the saved qkv, logsumexp and o.</summary>
    internal delegate void AttentionGradient(Tensor dy, Tensor qkv, Tensor logsumexp, Tensor output, Tensor dqkv);

    /// <summary>
    /// x [B, T, D] ← block(x), in place, attending within each sequence. <paramref name="save"/>, when given, receives
    /// what <see cref="Backward(TransformerBlockWeights, BlockActivations, Tensor, bool)"/> needs.
    /// </summary>
    public static void Forward(TransformerBlockWeights w, Tensor x, bool causal, float eps, BlockActivations? save = null)
    {
        int width = x.Size(2), heads = width / ClipConfig.HeadWidth;
        AttentionPrecision precision = AttentionPrecisionOf(w);
        Forward(w, x, eps, save, (qkv, o, logsumexp) =>
        {
            using QkvViews views = new(qkv, width);
            Attention.Forward(views.Q, views.K, views.V, o, heads, causal, logsumexp: logsumexp, precision: precision);
        });
    }

    /// <summary>
    /// The block with its attention step given (<see cref="SharedPrefixAttention"/> for a shared-prefix prompt's stacked
    /// rows); everything else treats each row on its own.
    /// </summary>
    internal static void Forward(TransformerBlockWeights w, Tensor x, float eps, BlockActivations? save, AttentionStep attention)
    {
        int batch = x.Size(0), tokens = x.Size(1), width = x.Size(2);
        using Tensor y = Tensor.Empty([batch, tokens, width], DType.F32, x.Device);
        // q, k and v only feed the attention: bfloat16 in a bfloat16 block, unless they are kept for a backward.
        Tensor packed = save?.Qkv ?? Tensor.Empty([batch, tokens, 3 * width], LinearInput.TypeFor(w), x.Device);
        try
        {
            using (LinearInput normed = new(w, y))
            {
                LayerNorm.Forward(x, w.Ln1Weight, w.Ln1Bias, normed.Tensor, eps, save?.Ln1Mean, save?.Ln1Rstd, keep: save?.Input);
                Linear.Forward(normed.Tensor, w.InProjWeight, w.InProjBias, packed);
            }
            using (Tensor? scratch = save is null ? Tensor.Empty([batch, tokens, width], LinearInput.TypeFor(w), x.Device) : null)
            {
                Tensor o = save?.Output ?? scratch!;
                attention(packed, o, save?.LogSumExp);
                Linear.ForwardAdding(o, w.OutProjWeight, w.OutProjBias, x, y);
            }
            Mlp(w, x, y, eps, save);
        }
        finally
        {
            if (packed != save?.Qkv) packed.Dispose();
        }
    }

    /// <summary>A block whose linears run in bfloat16 (weights stored so, <see cref="ClipWeights.ToDevice"/>) runs its attention so too.</summary>
    private static AttentionPrecision AttentionPrecisionOf(TransformerBlockWeights w) =>
        w.LinearsInBFloat16 ? AttentionPrecision.BFloat16 : AttentionPrecision.Float32;

    /// <summary>
    /// x ← x + c_proj(QuickGELU(c_fc(ln_2(x)))); y is scratch of x's shape. In a bfloat16 block the hidden activations
    /// stay bfloat16 from c_fc to c_proj (QuickGELU in place), unless they are kept for a backward: then c_fc writes the
    /// saved float32 buffer, and QuickGELU the linear's input from it.
    /// </summary>
    internal static void Mlp(TransformerBlockWeights w, Tensor x, Tensor y, float eps, BlockActivations? save)
    {
        int width = x.Size(-1);
        int[] hiddenShape = [.. x.Shape];
        hiddenShape[^1] = 4 * width;
        using Tensor hidden = Tensor.Empty(hiddenShape, LinearInput.TypeFor(w), x.Device);
        // Kept for the backward, c_fc's output goes straight to the saved buffer and QuickGELU reads it from there.
        Tensor preActivation = save?.Hidden ?? hidden;
        using (LinearInput normed = new(w, y))
        {
            LayerNorm.Forward(x, w.Ln2Weight, w.Ln2Bias, normed.Tensor, eps, save?.Ln2Mean, save?.Ln2Rstd, keep: save?.Middle);
            Linear.Forward(normed.Tensor, w.FcWeight, w.FcBias, preActivation);
        }
        QuickGelu.Forward(preActivation, hidden);
        Linear.ForwardAdding(hidden, w.ProjWeight, w.ProjBias, x, y);
    }

    /// <summary>
    /// d(block input) from d(block output), in place in <paramref name="dx"/> [B, T, D], from the saved forward.
    /// Input gradients only: the weights are frozen.
    /// </summary>
    public static void Backward(TransformerBlockWeights w, BlockActivations a, Tensor dx, bool causal)
    {
        int width = dx.Size(2), heads = width / ClipConfig.HeadWidth;
        Backward(w, a, dx, (dy, qkv, logsumexp, output, dqkv) =>
        {
            using QkvViews saved = new(qkv, width), gradient = new(dqkv, width);
            Attention.Backward(dy, saved.Q, saved.K, saved.V, logsumexp, gradient.Q, gradient.K, gradient.V, heads, causal, output: output);
        });
    }

    /// <summary>The backward pass of <see cref="Forward(TransformerBlockWeights, Tensor, float, BlockActivations?, AttentionStep)"/>, with its attention step's gradient given.</summary>
    internal static void Backward(TransformerBlockWeights w, BlockActivations a, Tensor dx, AttentionGradient attention)
    {
        int batch = dx.Size(0), tokens = dx.Size(1), width = dx.Size(2);
        using Tensor hidden = Tensor.Empty([batch, tokens, 4 * width], DType.F32, dx.Device);
        using Tensor dy = Tensor.Empty([batch, tokens, width], DType.F32, dx.Device);
        // MLP: dx += LN2ᵀ(c_fcᵀ(QuickGELU'(c_projᵀ(dx)))).
        Linear.Backward(dx, w.ProjWeight, hidden);
        QuickGelu.Backward(hidden, a.Hidden, hidden);
        Linear.Backward(hidden, w.FcWeight, dy);
        LayerNorm.BackwardAdding(dy, a.Middle, w.Ln2Weight, a.Ln2Mean, a.Ln2Rstd, dx);
        // Attention: dx += LN1ᵀ(in_projᵀ(attentionᵀ(out_projᵀ(dx)))).
        Linear.Backward(dx, w.OutProjWeight, dy);
        using Tensor dqkv = Tensor.Empty([batch, tokens, 3 * width], DType.F32, dx.Device);
        attention(dy, a.Qkv, a.LogSumExp, a.Output, dqkv);
        Linear.Backward(dqkv, w.InProjWeight, dy);
        LayerNorm.BackwardAdding(dy, a.Input, w.Ln1Weight, a.Ln1Mean, a.Ln1Rstd, dx);
    }
}
