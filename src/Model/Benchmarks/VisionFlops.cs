using ReClip.Kernels.Ops;
using ReClip.Model.Clip;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// Model FLOPs of one image through the image tower, counted as model-FLOP utilisation counts them: 2 per multiply-add
/// of the patch embedding, the linear layers, the attention products (QKᵀ and PV) and the output projection. LayerNorm,
/// softmax, QuickGELU and the adds are left out (well under 1 % of the total). With T = 1 + h·w tokens of width D, L
/// blocks and embedding width E:
///   pooled (CLIP's encode_image): 2·hw·3P²·D + L·(24·T·D² + 4·T²·D) + 2·D·E;
///   dense (MaskCLIP, spec §4.3): the last block runs its value path only (v, out_proj and the MLP, 20·T·D²) and every
///   patch is projected (2·hw·D·E).
/// ViT-B/16 at 224 px: 35.1 GFLOP pooled, 34.7 dense.
/// </summary>
public static class VisionFlops
{
    public static double Pooled(ClipConfig config, int size)
    {
        (double tokens, double patches, double width) = Sizes(config, size);
        return Embedding(config, patches, width) + config.VisionLayers * Block(tokens, width) + 2 * width * config.EmbedDim;
    }

    public static double Dense(ClipConfig config, int size)
    {
        (double tokens, double patches, double width) = Sizes(config, size);
        return Embedding(config, patches, width) + (config.VisionLayers - 1) * Block(tokens, width) + 20 * tokens * width * width
            + 2 * patches * width * config.EmbedDim;
    }

    /// <summary>qkv (6·T·D²), out_proj (2·T·D²), the MLP (16·T·D²) and the two attention products (4·T²·D).</summary>
    private static double Block(double tokens, double width) => 24 * tokens * width * width + 4 * tokens * tokens * width;

    private static double Embedding(ClipConfig config, double patches, double width) => 2 * patches * 3.0 * config.PatchSize * config.PatchSize * width;

    private static (double Tokens, double Patches, double Width) Sizes(ClipConfig config, int size)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        (int rows, int columns) = PatchEmbedding.Grid(size, size, config.PatchSize);
        double patches = (double)rows * columns;
        return (1 + patches, patches, config.VisionWidth);
    }
}
