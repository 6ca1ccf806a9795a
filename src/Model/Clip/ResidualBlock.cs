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

    /// <summary>
    /// x [B, T, D] ← block(x), in place. <paramref name="qkv"/> [B, T, 3D], when given, is used as the
    /// packed in-projection buffer and so keeps the keys and values (the shared prompt prefix, spec §2.2).
    /// <paramref name="save"/>, when given, receives what <see cref="Backward"/> needs.
    /// </summary>
    public static void Forward(TransformerBlockWeights w, Tensor x, bool causal, float eps, Tensor? qkv = null, BlockActivations? save = null)
    {
        int batch = x.Size(0), tokens = x.Size(1), width = x.Size(2), heads = width / ClipConfig.HeadWidth;
        using Tensor y = Tensor.Empty([batch, tokens, width], DType.F32, x.Device);
        // q, k and v only feed the attention: bfloat16 in a bfloat16 block, unless they are kept for a backward or a prefix.
        Tensor packed = save?.Qkv ?? qkv ?? Tensor.Empty([batch, tokens, 3 * width], LinearInput.TypeFor(w), x.Device);
        try
        {
            save?.Input.CopyFrom(x);
            using (LinearInput normed = new(w, y))
            {
                LayerNorm.Forward(x, w.Ln1Weight, w.Ln1Bias, normed.Tensor, eps, save?.Ln1Mean, save?.Ln1Rstd);
                Linear.Forward(normed.Tensor, w.InProjWeight, w.InProjBias, packed);
            }
            using (Tensor o = Tensor.Empty([batch, tokens, width], LinearInput.TypeFor(w), x.Device))
            using (QkvViews views = new(packed, width))
            {
                Attention.Forward(views.Q, views.K, views.V, o, heads, causal, logsumexp: save?.LogSumExp, precision: AttentionPrecisionOf(w));
                Linear.ForwardAdding(o, w.OutProjWeight, w.OutProjBias, x, y);
            }
            if (save is not null && qkv is not null) qkv.CopyFrom(save.Qkv);
            Mlp(w, x, y, eps, save);
        }
        finally
        {
            if (packed != qkv && packed != save?.Qkv) packed.Dispose();
        }
    }

    /// <summary>A block whose linears run in bfloat16 (weights stored so, <see cref="ClipWeights.ToDevice"/>) runs its attention so too.</summary>
    private static AttentionPrecision AttentionPrecisionOf(TransformerBlockWeights w) =>
        w.LinearsInBFloat16 ? AttentionPrecision.BFloat16 : AttentionPrecision.Float32;

    /// <summary>
    /// The last S positions of C sequences whose first P positions are shared (spec §2.2/§14): x [C, S, D] in
    /// place, attending causally to the shared prefix's keys and values (<paramref name="prefixQkv"/> [1, P, 3D],
    /// this layer's packed qkv from the prefix's own forward) and to their own, through
    /// <see cref="Attention.ForwardAfterPrefix"/> (no per-class copy of the prefix).
    /// <paramref name="save"/> receives what <see cref="Backward"/> needs; its qkv holds the classes' own rows only.
    /// </summary>
    public static void ForwardAfterPrefix(TransformerBlockWeights w, Tensor x, Tensor prefixQkv, float eps, BlockActivations? save = null)
    {
        int classes = x.Size(0), suffix = x.Size(1), width = x.Size(2), heads = width / ClipConfig.HeadWidth;
        using Tensor y = Tensor.Empty([classes, suffix, width], DType.F32, x.Device);
        using Tensor? owned = save is null ? Tensor.Empty([classes, suffix, 3 * width], DType.F32, x.Device) : null;
        Tensor own = save?.Qkv ?? owned!;
        save?.Input.CopyFrom(x);
        LayerNorm.Forward(x, w.Ln1Weight, w.Ln1Bias, y, eps, save?.Ln1Mean, save?.Ln1Rstd);
        Linear.Forward(y, w.InProjWeight, w.InProjBias, own);
        using (Tensor o = Tensor.Empty([classes, suffix, width], DType.F32, x.Device))
        using (QkvViews mine = new(own, width), shared = new(prefixQkv, width))
        {
            Attention.ForwardAfterPrefix(mine.Q, mine.K, mine.V, shared.K, shared.V, o, heads, save?.LogSumExp);
            Linear.ForwardAdding(o, w.OutProjWeight, w.OutProjBias, x, y);
        }
        Mlp(w, x, y, eps, save);
    }

    /// <summary>
    /// x ← x + c_proj(QuickGELU(c_fc(ln_2(x)))); y is scratch of x's shape. In a bfloat16 block the hidden activations
    /// stay bfloat16 from c_fc to c_proj (QuickGELU in place), unless they are kept for a backward.
    /// </summary>
    internal static void Mlp(TransformerBlockWeights w, Tensor x, Tensor y, float eps, BlockActivations? save)
    {
        int width = x.Size(-1);
        save?.Middle.CopyFrom(x);
        int[] hiddenShape = [.. x.Shape];
        hiddenShape[^1] = 4 * width;
        using Tensor hidden = Tensor.Empty(hiddenShape, save is null ? LinearInput.TypeFor(w) : DType.F32, x.Device);
        using (LinearInput normed = new(w, y))
        {
            LayerNorm.Forward(x, w.Ln2Weight, w.Ln2Bias, normed.Tensor, eps, save?.Ln2Mean, save?.Ln2Rstd);
            Linear.Forward(normed.Tensor, w.FcWeight, w.FcBias, hidden);
        }
        save?.Hidden.CopyFrom(hidden);
        using (LinearInput activated = new(w, hidden))
        {
            QuickGelu.Forward(hidden, activated.Tensor);
            Linear.ForwardAdding(activated.Tensor, w.ProjWeight, w.ProjBias, x, y);
        }
    }

    /// <summary>
    /// d(block input) from d(block output), in place in <paramref name="dx"/> [B, T, D], from the saved forward.
    /// Input gradients only: the weights are frozen. For the last positions of a shared-prefix prompt
    /// (<see cref="ForwardAfterPrefix"/>), <paramref name="prefixQkv"/> is the prefix's saved qkv [1, P, 3D] of this layer
    /// and the gradients of its keys and values are summed over the batch into <paramref name="prefixQkvGradient"/>
    /// (added to). <paramref name="extraQkvGradient"/> [B, T, 3D], when given, is added to this block's own qkv
    /// gradient: for a prefix block, what the later positions' attention sent back to its keys and values.
    /// </summary>
    public static void Backward(TransformerBlockWeights w, BlockActivations a, Tensor dx, bool causal,
        Tensor? extraQkvGradient = null, Tensor? prefixQkv = null, Tensor? prefixQkvGradient = null)
    {
        int batch = dx.Size(0), tokens = dx.Size(1), width = dx.Size(2), heads = width / ClipConfig.HeadWidth;
        if ((prefixQkv is null) != (prefixQkvGradient is null))
            throw new ArgumentException("ResidualBlock.Backward: a block after a shared prefix needs both the prefix's qkv and its gradient buffer", nameof(prefixQkvGradient));
        using Tensor hidden = Tensor.Empty([batch, tokens, 4 * width], DType.F32, dx.Device);
        using Tensor dy = Tensor.Empty([batch, tokens, width], DType.F32, dx.Device);
        using Tensor dln = Tensor.Empty([batch, tokens, width], DType.F32, dx.Device);
        // MLP: dx += LN2ᵀ(c_fcᵀ(QuickGELU'(c_projᵀ(dx)))).
        Linear.Backward(dx, w.ProjWeight, hidden);
        QuickGelu.Backward(hidden, a.Hidden, hidden);
        Linear.Backward(hidden, w.FcWeight, dy);
        LayerNorm.Backward(dy, a.Middle, w.Ln2Weight, a.Ln2Mean, a.Ln2Rstd, dln);
        Add.Residual(dx, dln);
        // Attention: dx += LN1ᵀ(in_projᵀ(attentionᵀ(out_projᵀ(dx)))).
        Linear.Backward(dx, w.OutProjWeight, dy);
        using Tensor dqkv = Tensor.Empty([batch, tokens, 3 * width], DType.F32, dx.Device);
        using (QkvViews saved = new(a.Qkv, width), gradient = new(dqkv, width))
        {
            if (prefixQkv is null)
                Attention.Backward(dy, saved.Q, saved.K, saved.V, a.LogSumExp, gradient.Q, gradient.K, gradient.V, heads, causal);
            else
            {
                using QkvViews shared = new(prefixQkv, width), sharedGradient = new(prefixQkvGradient!, width);
                Attention.BackwardAfterPrefix(dy, saved.Q, saved.K, saved.V, shared.K, shared.V, a.LogSumExp,
                    gradient.Q, gradient.K, gradient.V, sharedGradient.K, sharedGradient.V, heads);
            }
        }
        if (extraQkvGradient is not null)
            Add.Residual(dqkv, extraQkvGradient);
        Linear.Backward(dqkv, w.InProjWeight, dy);
        LayerNorm.Backward(dy, a.Input, w.Ln1Weight, a.Ln1Mean, a.Ln1Rstd, dln);
        Add.Residual(dx, dln);
    }

    /// <summary>The q, k and v column blocks of a packed [B, T, 3D] buffer, as views.</summary>
    private readonly struct QkvViews(Tensor packed, int width) : IDisposable
    {
        public Tensor Q { get; } = packed.Slice(2, 0, width);

        public Tensor K { get; } = packed.Slice(2, width, width);

        public Tensor V { get; } = packed.Slice(2, 2 * width, width);

        public void Dispose()
        {
            Q.Dispose();
            K.Dispose();
            V.Dispose();
        }
    }
}
