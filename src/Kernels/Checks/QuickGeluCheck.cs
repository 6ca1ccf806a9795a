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

    public Type Op => typeof(QuickGelu);

    // 77x3072: the text MLP's hidden activations; odd sizes exercise the scalar tails.
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "77x3072"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        (int rows, int width) = CaseSize.Two(testCase);
        var random = new RandomTensors(seed);
        // [−6, 6] reaches both tails of the sigmoid (σ(1.702·6) ≈ 1 − 4e-5).
        float[] x = random.Uniform(rows * width, -6, 6), dy = random.Uniform(rows * width);
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
        outputs.Compare("dx", tdx, dx, Backward);
        return outputs.Results;
    }
}
