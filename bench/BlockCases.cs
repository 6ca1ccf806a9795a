using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Bench;

/// <summary>
/// The pieces of one ViT-B/16 residual block at batch 1, width 768 and 12 heads, at 224, 336 and 448 px (197, 442 and 785
/// tokens), so the time of <c>vit224_b1</c> and <c>vit448_b1</c> can be split by op next to PyTorch's (the linear layers
/// are the <c>linear_*</c> and <c>sgemm_*</c> cases).
/// Twelve blocks make nearly all of the image tower's time: patch embedding, ln_pre/ln_post and proj are single GEMMs
/// or passes over the tokens.
/// </summary>
public static class BlockCases
{
    public const int Width = 768, Heads = Width / ClipConfig.HeadWidth, PatchSize = 16;

    private static readonly int[] ImageSizes = [224, 336, 448];
    private static readonly string[] Pieces = ["", "_layernorm", "_attention", "_quickgelu"];

    public static IReadOnlyList<string> Names { get; } = [.. ImageSizes.SelectMany(size => Pieces.Select(piece => $"block{size}{piece}"))];

    public static ICompareCase Create(string name)
    {
        int size = ImageSizes.FirstOrDefault(size => name.StartsWith($"block{size}", StringComparison.Ordinal));
        if (size == 0)
            throw new ArgumentException($"case '{name}' is not a block case");
        int tokens = 1 + size / PatchSize * (size / PatchSize);
        return name[$"block{size}".Length..] switch
        {
            "" => Block(tokens),
            "_layernorm" => LayerNormCase(tokens),
            "_attention" => AttentionCase(tokens),
            "_quickgelu" => QuickGeluCase(tokens),
            _ => throw new ArgumentException($"case '{name}' is not a block case"),
        };
    }

    /// <summary>The first visual block of the random ViT-B/16 on its own copy of the same tokens each call (ResidualBlock works in place).</summary>
    private static Case Block(int tokens)
    {
        TransformerBlockWeights weights = ClipCases.Weights.VisionBlocks[0];
        Tensor input = Random([1, tokens, Width], 1), x = Tensor.Empty([1, tokens, Width]);
        return new Case(() =>
        {
            input.AsSpan<float>().CopyTo(x.AsSpan<float>());
            ResidualBlock.Forward(weights, x, causal: false, ResidualBlock.MaskClipVisualEps);
        }, input, x);
    }

    private static Case LayerNormCase(int tokens)
    {
        Tensor x = Random([1, tokens, Width], 2), gamma = Random([Width], 3), beta = Random([Width], 4), y = Tensor.Empty([1, tokens, Width]);
        return new Case(() => LayerNorm.Forward(x, gamma, beta, y, ResidualBlock.MaskClipVisualEps), x, gamma, beta, y);
    }

    /// <summary>Scaled dot-product attention of the 12 heads on slices of one packed qkv buffer, as the block runs it (projections excluded).</summary>
    private static Case AttentionCase(int tokens)
    {
        Tensor qkv = Random([1, tokens, 3 * Width], 5), o = Tensor.Empty([1, tokens, Width]);
        Tensor q = qkv.Slice(2, 0, Width), k = qkv.Slice(2, Width, Width), v = qkv.Slice(2, 2 * Width, Width);
        return new Case(() => Attention.Forward(q, k, v, o, Heads, causal: false), q, k, v, qkv, o);
    }

    /// <summary>The activation on the fc layer's output [tokens, 3072], out of place so every call sees the same input.</summary>
    private static Case QuickGeluCase(int tokens)
    {
        Tensor x = Random([1, tokens, 4 * Width], 6), y = Tensor.Empty([1, tokens, 4 * Width]);
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
