using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class QuickGeluCheck : IOpCheck
{
    // float32 exp of −1.702·x carries the argument's rounding (|1.702·x| ≤ 10 here, ~6e-7 absolute) into a
    // relative error of that size; plus a few ulps for exp and the division.
    private static readonly Tolerance Forward = new(1e-6, 2e-6);

    // 1 − s cancels where s → 1; its ~6e-8 absolute error is multiplied by 1.702·|x| ≤ 10.
    private static readonly Tolerance Backward = new(2e-6, 2e-6);

    // The same with |x| up to 80: 6e-8 times 1.702·80 is 8e-6. The forward's tolerance holds as it is: where the
    // argument's rounding grows with |x|, the sigmoid is within 1e-6 of 0 or 1.
    private static readonly Tolerance WideBackward = new(2e-5, 2e-6);

    private const string WidePrefix = "wide ";

    public Type Op => typeof(QuickGelu);

    // 77x3072: the text MLP's hidden activations; odd sizes exercise the scalar tails. "wide": x in [−80, 80] with +∞, −∞
    // and NaN first, where the exponential over- and underflows (the bfloat16 kernels' fast exponential among them).
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "77x3072", WidePrefix + "7x33"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        bool wide = testCase.StartsWith(WidePrefix, StringComparison.Ordinal);
        (int rows, int width) = CaseSize.Two(wide ? testCase[WidePrefix.Length..] : testCase);
        var random = new RandomTensors(seed);
        // [−6, 6] reaches both tails of the sigmoid (σ(1.702·6) ≈ 1 − 4e-5).
        float[] x = random.Uniform(rows * width, wide ? -80 : -6, wide ? 80 : 6), dy = random.Uniform(rows * width);
        if (wide)
            (x[0], x[1], x[2]) = (float.PositiveInfinity, float.NegativeInfinity, float.NaN);
        Tolerance backward = wide ? WideBackward : Backward;
        float[] y = new float[rows * width], dx = new float[rows * width];
        QuickGelu.Reference(x, y);
        QuickGelu.BackwardReference(dy, x, dx);

        var outputs = new CheckOutputs("quickgelu", testCase);
        using Tensor tx = RandomTensors.On(device, x, rows, width), ty = Tensor.Empty([rows, width], DType.F32, device);
        outputs.Time(() => QuickGelu.Forward(tx, ty));
        outputs.Compare("y", ty, y, Forward);
        using Tensor inPlace = RandomTensors.On(device, x, rows, width);
        outputs.Time(() => QuickGelu.ForwardInPlace(inPlace));
        outputs.Compare("y in place", inPlace, y, Forward);
        using Tensor rounded = Tensor.Empty([rows, width], DType.BF16, device);
        outputs.Time(() => QuickGelu.Forward(tx, rounded));
        outputs.Compare("y in bfloat16", rounded, y, Forward.WithBFloat16Rounding());
        // From x stored in bfloat16 (a GEMM's bfloat16 output), in place: the reference on the rounded x.
        float[] roundedX = BFloat16Convert.Rounded(x), yOfRounded = new float[rows * width];
        QuickGelu.Reference(roundedX, yOfRounded);
        using Tensor bits = Tensor.Empty([rows, width], DType.BF16, device);
        BFloat16Convert.Forward(tx, bits);
        outputs.Time(() => QuickGelu.ForwardInPlace(bits));
        outputs.Compare("y in bfloat16 from bfloat16 x", bits, yOfRounded, Forward.WithBFloat16Rounding());

        using Tensor tdy = RandomTensors.On(device, dy, rows, width), tdx = Tensor.Empty([rows, width], DType.F32, device);
        outputs.Time(() => QuickGelu.Backward(tdy, tx, tdx));
        outputs.Compare("dx", tdx, dx, backward);
        return outputs.Results;
    }
}
