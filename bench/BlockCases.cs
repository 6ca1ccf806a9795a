using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Bench;

/// <summary>
/// The pieces of one ViT-B/16 residual block at 224 px and batch 1 (197 tokens, width 768, 12 heads), so the time of
/// <c>vit224_b1</c> can be split by op next to PyTorch's (the linear layers are the <c>linear_vit224_*</c> cases).
/// Twelve blocks make nearly all of the image tower's time: patch embedding, ln_pre/ln_post and proj are single GEMMs
/// or passes over the tokens.
/// </summary>
public static class BlockCases
{
    public const int Tokens = 197, Width = 768, Heads = Width / ClipConfig.HeadWidth;

    public static IReadOnlyList<string> Names { get; } = ["block224", "block224_layernorm", "block224_attention", "block224_quickgelu"];

    public static ICompareCase Create(string name) => name switch
    {
        "block224" => Block(),
        "block224_layernorm" => LayerNormCase(),
        "block224_attention" => AttentionCase(),
        "block224_quickgelu" => QuickGeluCase(),
        _ => throw new ArgumentException($"case '{name}' is not a block case"),
    };

    /// <summary>The first visual block of the random ViT-B/16 on its own copy of the same tokens each call (ResidualBlock works in place).</summary>
    private static Case Block()
    {
        TransformerBlockWeights weights = ClipCases.Weights.VisionBlocks[0];
        Tensor input = Random([1, Tokens, Width], 1), x = Tensor.Empty([1, Tokens, Width]);
        return new Case(() =>
        {
            input.AsSpan<float>().CopyTo(x.AsSpan<float>());
            ResidualBlock.Forward(weights, x, causal: false, ResidualBlock.MaskClipVisualEps);
        }, input, x);
    }

    private static Case LayerNormCase()
    {
        Tensor x = Random([1, Tokens, Width], 2), gamma = Random([Width], 3), beta = Random([Width], 4), y = Tensor.Empty([1, Tokens, Width]);
        return new Case(() => LayerNorm.Forward(x, gamma, beta, y, ResidualBlock.MaskClipVisualEps), x, gamma, beta, y);
    }

    /// <summary>Scaled dot-product attention of the 12 heads on slices of one packed qkv buffer, as the block runs it (projections excluded).</summary>
    private static Case AttentionCase()
    {
        Tensor qkv = Random([1, Tokens, 3 * Width], 5), o = Tensor.Empty([1, Tokens, Width]);
        Tensor q = qkv.Slice(2, 0, Width), k = qkv.Slice(2, Width, Width), v = qkv.Slice(2, 2 * Width, Width);
        return new Case(() => Attention.Forward(q, k, v, o, Heads, causal: false), q, k, v, qkv, o);
    }

    /// <summary>The activation on the fc layer's output [197, 3072], out of place so every call sees the same input.</summary>
    private static Case QuickGeluCase()
    {
        Tensor x = Random([1, Tokens, 4 * Width], 6), y = Tensor.Empty([1, Tokens, 4 * Width]);
        return new Case(() => QuickGelu.Forward(x, y), x, y);
    }

    private static Tensor Random(int[] shape, int seed) => SgemmCase.Filled(shape, new Random(seed));

    private sealed class Case(Action run, params Tensor[] owned) : ICompareCase
    {
        public int WarmupCalls => 30;

        public void Run() => run();

        public void Dispose()
        {
            foreach (Tensor tensor in owned)
                tensor.Dispose();
        }
    }
}
