using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model;

/// <summary>
/// A residual block whose linear weights are stored in bfloat16, as <see cref="ClipWeights.ToDevice"/> stores an image
/// tower's on a GPU: its LayerNorm, attention and QuickGELU outputs go to the GEMMs in bfloat16, its qkv and c_fc GEMMs
/// store bfloat16, and its attention runs in <see cref="AttentionPrecision.BFloat16"/>. The CPU runs the same dtype flow
/// as the GPU, so the wiring is checked here.
/// </summary>
[TestFixture]
public sealed class BFloat16BlockTests
{
    private const int Batch = 2, Tokens = 70, Width = 128;

    [Test]
    public void MatchesTheFloat32BlockOnRoundedWeightsWithinActivationRounding()
    {
        var random = new RandomTensors(21);
        float[][] parameters = [.. Shapes().Select(shape => random.Uniform(shape.Aggregate(1, (a, b) => a * b), -0.1f, 0.1f))];
        foreach (int linear in LinearIndices)
            BFloat16Convert.Round(parameters[linear]);
        float[] input = random.Uniform(Batch * Tokens * Width, -2, 2);
        using TransformerBlockWeights float32 = Block(parameters, bfloat16Linears: false), bfloat16 = Block(parameters, bfloat16Linears: true);
        using Tensor exact = Tensor.FromSpan<float>(input, [Batch, Tokens, Width]), rounded = Tensor.FromSpan<float>(input, [Batch, Tokens, Width]);
        ResidualBlock.Forward(float32, exact, causal: false, ResidualBlock.DefaultEps);
        ResidualBlock.Forward(bfloat16, rounded, causal: false, ResidualBlock.DefaultEps);
        float[] want = exact.ToFloatArray(), got = rounded.ToFloatArray();
        // The block changes x by up to ~2; each of its four GEMM inputs and outputs q, k, v and the hidden activations
        // is rounded by up to 2⁻⁹ relative, which moved the output by 6.4e-3 at most when measured. A wrong tensor in the
        // flow moves it by O(1).
        double worst = want.Zip(got, (a, b) => Math.Abs(a - b)).Max();
        Assert.Multiple(() =>
        {
            Assert.That(worst, Is.LessThan(2e-2));
            Assert.That(worst, Is.GreaterThan(0), "the activations were not rounded");
        });
    }

    [Test]
    public void RejectsABFloat16InputToAFloat32Weight()
    {
        using Tensor x = Tensor.Zeros([2, 4], DType.BF16), weight = Tensor.Zeros([3, 4]), y = Tensor.Zeros([2, 3]);
        Assert.That(() => MatMul.Linear(x, weight, null, y), Throws.ArgumentException.With.Message.Contains("needs a bfloat16 weight"));
    }

    [Test]
    public void RejectsABFloat16AttentionOutputAtFloat32Precision()
    {
        using Tensor q = Tensor.Zeros([1, 3, 64]), o = Tensor.Zeros([1, 3, 64], DType.BF16);
        Assert.That(() => Attention.Forward(q, q, q, o, 1, causal: false), Throws.ArgumentException.With.Message.Contains("bfloat16 o"));
    }

    // ln_1 weight, bias, in_proj weight, bias, out_proj weight, bias, ln_2 weight, bias, c_fc weight, bias, c_proj weight, bias.
    private static int[][] Shapes() =>
        [[Width], [Width], [3 * Width, Width], [3 * Width], [Width, Width], [Width], [Width], [Width], [4 * Width, Width], [4 * Width], [Width, 4 * Width], [Width]];

    private static readonly int[] LinearIndices = [2, 4, 8, 10];

    private static TransformerBlockWeights Block(float[][] parameters, bool bfloat16Linears)
    {
        int[][] shapes = Shapes();
        Tensor[] tensors = new Tensor[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            // LayerNorm scales near 1, so the normalised rows keep their size.
            float[] values = i is 0 or 6 ? [.. parameters[i].Select(v => 1 + v)] : parameters[i];
            tensors[i] = bfloat16Linears && LinearIndices.Contains(i)
                ? RandomTensors.OnInBFloat16(Device.Cpu, values, shapes[i])
                : Tensor.FromSpan<float>(values, shapes[i]);
        }
        return new TransformerBlockWeights(tensors[0], tensors[1], tensors[2], tensors[3], tensors[4], tensors[5],
            tensors[6], tensors[7], tensors[8], tensors[9], tensors[10], tensors[11]);
    }
}
