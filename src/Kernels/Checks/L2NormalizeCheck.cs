using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class L2NormalizeCheck : IOpCheck
{
    // A float32 sum of ≤ 512 squares (~1e-6 relative at worst), a square root and a division.
    private static readonly Tolerance Forward = new(1e-7, 2e-6);

    // dy − y·(y·dy) subtracts O(1) terms before dividing by ‖x‖ (≈ 13 for 512 values in [−1, 1]).
    private static readonly Tolerance Backward = new(2e-7, 1e-5);

    public Type Op => typeof(L2Normalize);

    // 441x512: the patch features F of a 336 crop (21×21 patches); 7x33 exercises the SIMD tails.
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "441x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        (int rows, int width) = CaseSize.Two(testCase);
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(rows * width), dy = random.Uniform(rows * width);
        float[] y = new float[rows * width], norm = new float[rows], dx = new float[rows * width];
        L2Normalize.Reference(x, y, norm);
        L2Normalize.BackwardReference(dy, y, norm, dx);

        var outputs = new CheckOutputs("l2normalize", testCase);
        using Tensor tx = RandomTensors.On(device, x, rows, width), ty = Tensor.Empty([rows, width], DType.F32, device);
        using Tensor tn = Tensor.Empty([rows], DType.F32, device);
        outputs.Time(() => L2Normalize.Forward(tx, ty, tn));
        outputs.Compare("y", ty, y, Forward);
        outputs.Compare("norm", tn, norm, Forward);

        // The backward takes the reference y and norm, so that dx is compared on equal inputs.
        using Tensor tdy = RandomTensors.On(device, dy, rows, width), tyRef = RandomTensors.On(device, y, rows, width);
        using Tensor tnRef = RandomTensors.On(device, norm, rows), tdx = Tensor.Empty([rows, width], DType.F32, device);
        outputs.Time(() => L2Normalize.Backward(tdy, tyRef, tnRef, tdx));
        outputs.Compare("dx", tdx, dx, Backward);
        return outputs.Results;
    }
}
