using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class Conv2dCheck : IOpCheck
{
    // Outputs are float32 GEMM sums of up to Cin·k·k = 13300 products scaled to O(1) (weights ~ 1/√depth)
    // against double sums: ~1e-6 typical, a few 1e-6 worst, so 2e-5 absolute plus 1e-4 relative.
    private static readonly Tolerance Forward = new(2e-5, 1e-4);

    // dx sums Cout·k·k ≤ 512 products of O(1/√depth); dweight and dbias sum B·H·W ≤ 441 products of
    // O(1) — values up to ~20 — so their absolute part grows with that count.
    private static readonly Tolerance InputGradient = new(2e-5, 1e-4);
    private static readonly Tolerance ParameterGradient = new(1e-4, 1e-4);

    public Type Op => typeof(Conv2d);

    /// <summary>
    /// B x Cin x Cout x H x W x k: 5×5 with a batch, 5×5 on a grid smaller than the kernel, 1×1, and the
    /// realistic ones: VOC's decoder (532 → 20 on 21×21) and pe_proj (768 → 512 on 14×14).
    /// </summary>
    public IReadOnlyList<string> Cases { get; } = ["2x5x3x7x6x5", "1x3x2x2x3x5", "1x9x4x5x3x1", "1x532x20x21x21x5", "1x768x512x14x14x1"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] sizes = CaseSize.Parse(testCase);
        (int batch, int cin, int cout, int height, int width, int k) = (sizes[0], sizes[1], sizes[2], sizes[3], sizes[4], sizes[5]);
        var random = new RandomTensors(seed);
        float bound = 1 / MathF.Sqrt(cin * k * k);
        float[] x = random.Uniform(batch * cin * height * width), weight = random.Uniform(cout * cin * k * k, -bound, bound);
        float[] bias = random.Uniform(cout, -bound, bound), dy = random.Uniform(batch * cout * height * width);
        float[] y = new float[dy.Length], dx = new float[x.Length], dweight = new float[weight.Length], dbias = new float[cout];
        Conv2d.Reference(x, batch, height, width, weight, k, bias, y);
        Conv2d.BackwardReference(dy, x, batch, height, width, weight, k, dx, dweight, dbias);

        var outputs = new CheckOutputs("conv2d", testCase);
        using Tensor tx = RandomTensors.On(device, x, batch, cin, height, width), tw = RandomTensors.On(device, weight, cout, cin, k, k);
        using Tensor tb = RandomTensors.On(device, bias, cout), ty = Tensor.Empty([batch, cout, height, width], DType.F32, device);
        outputs.Time(() => Conv2d.Forward(tx, tw, tb, ty));
        outputs.Compare("y", ty, y, Forward);

        using Tensor tdy = RandomTensors.On(device, dy, batch, cout, height, width), tdx = Tensor.Empty([batch, cin, height, width], DType.F32, device);
        using Tensor tdw = Tensor.Empty([cout, cin, k, k], DType.F32, device), tdb = Tensor.Empty([cout], DType.F32, device);
        outputs.Time(() => Conv2d.Backward(tdy, tx, tw, tdx, tdw, tdb));
        outputs.Compare("dx", tdx, dx, InputGradient);
        outputs.Compare("dweight", tdw, dweight, ParameterGradient);
        outputs.Compare("dbias", tdb, dbias, ParameterGradient);
        return outputs.Results;
    }
}
