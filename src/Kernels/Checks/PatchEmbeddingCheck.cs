using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class PatchEmbeddingCheck : IOpCheck
{
    // Each token is a float32 dot product of Cin·P·P = 768 terms of O(1) (the fast path's GEMM) against a
    // double sum: ~1e-6 relative, with headroom for the GEMM's blocked summation order.
    private static readonly Tolerance Forward = new(2e-5, 1e-4);

    public Type Op => typeof(PatchEmbedding);

    /// <summary>B x H x W x D x P: padding on one or both sides, and CLIP's 336² crop with D = 768, P = 16.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x9x13x5x4", "2x35x20x24x16", "1x336x336x768x16"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] sizes = CaseSize.Parse(testCase);
        (int batch, int height, int width, int dim, int patch) = (sizes[0], sizes[1], sizes[2], sizes[3], sizes[4]);
        (int rows, int columns) = PatchEmbedding.Grid(height, width, patch);
        var random = new RandomTensors(seed);
        // Normalised pixels are within about ±2; weights scaled by 1/P keep the tokens O(1).
        float[] image = random.Uniform(batch * 3 * height * width, -2, 2), weight = random.Uniform(dim * 3 * patch * patch, -1f / patch, 1f / patch);
        float[] tokens = new float[batch * rows * columns * dim];
        PatchEmbedding.Reference(image, batch, height, width, weight, dim, patch, tokens);

        var outputs = new CheckOutputs("patchembedding", testCase);
        using Tensor ti = RandomTensors.On(device, image, batch, 3, height, width), tw = RandomTensors.On(device, weight, dim, 3, patch, patch);
        using Tensor tt = Tensor.Empty([batch, rows * columns, dim], DType.F32, device);
        outputs.Time(() => PatchEmbedding.Forward(ti, tw, tt));
        outputs.Compare("tokens", tt, tokens, Forward);

        // The weight in bfloat16, as an image tower stored so holds it: the pixels round to bfloat16 on the way, so the
        // reference multiplies both rounded, and only the float32 sums of the products are left (the tolerance above).
        float[] roundedTokens = new float[tokens.Length];
        PatchEmbedding.Reference(BFloat16Convert.Rounded(image), batch, height, width, BFloat16Convert.Rounded(weight), dim, patch, roundedTokens);
        using Tensor hostWeight = Tensor.FromSpan<float>(weight, [dim, 3, patch, patch]), bits = Tensor.Empty([dim, 3, patch, patch], DType.BF16);
        BFloat16Convert.Forward(hostWeight, bits);
        using Tensor tb = bits.ToDevice(device), tr = Tensor.Empty([batch, rows * columns, dim], DType.F32, device);
        PatchEmbedding.Forward(ti, tb, tr);
        outputs.Compare("tokens from a bfloat16 weight", tr, roundedTokens, Forward);
        return outputs.Results;
    }
}
