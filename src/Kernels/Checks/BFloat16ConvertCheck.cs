using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class BFloat16ConvertCheck : IOpCheck
{
    // The same rounding on both sides: bit-identical (the floor only keeps Agreement's division finite).
    private static readonly Tolerance Exact = new(1e-30, 0);

    public Type Op => typeof(BFloat16Convert);

    /// <summary>Element counts; 197x768 is one ViT-B/16 image's tokens going into a linear layer.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1", "1000", "197x768"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int count = CaseSize.Parse(testCase).Aggregate(1, (a, b) => a * b);
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(count, -3, 3);
        // Ties and the specials: exactly halfway between two bfloat16 values (both ways to even), ±0, ±∞, NaN.
        float[] specials = [BitConverter.Int32BitsToSingle(0x3F808000), BitConverter.Int32BitsToSingle(0x3F818000), 0f, -0f,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        specials.AsSpan(0, Math.Min(specials.Length, count)).CopyTo(x);
        var expected = new BFloat16[count];
        BFloat16Convert.Reference(x, expected);

        var outputs = new CheckOutputs("bfloat16_convert", testCase);
        using Tensor tx = RandomTensors.On(device, x, count), ty = Tensor.Empty([count], DType.BF16, device);
        outputs.Time(() => BFloat16Convert.Forward(tx, ty));
        // Compared as floats: every bfloat16 widens exactly, and a NaN must stay a NaN.
        outputs.Compare("y", ty, [.. expected.Select(v => (float)v)], Exact);
        // The same rounding kept in float32 (a bias that a float32 GEMM adds as a bfloat16 one would).
        using Tensor rounded = Tensor.Empty([count], DType.F32, device);
        BFloat16Convert.RoundInto(tx, rounded);
        outputs.Compare("y_rounded_float32", rounded, [.. expected.Select(v => (float)v)], Exact);
        return outputs.Results;
    }
}
