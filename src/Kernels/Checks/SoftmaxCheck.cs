using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class SoftmaxCheck : IOpCheck
{
    // y's relative error is the rounding of the float32 argument fl(scale·x) − max, whose terms reach
    // 2·|scale|·max|x| = 8·|scale| here (~8·|scale|·6e-8 ≈ 5e-7·|scale|), plus a few ulps of exp and the sum.
    private const double ForwardRelativePerScale = 2e-6;

    // dx = scale·y·(dy − Σdy·y): the float32 dot and difference of O(1) terms (a few 1e-7 where y ≈ 1 makes
    // dy − Σdy·y cancel) are multiplied by scale·y.
    private const double BackwardAbsolutePerScale = 5e-7;

    private static Tolerance Forward(float scale) => new(1e-7, ForwardRelativePerScale * Math.Max(1, Math.Abs(scale)));

    private static Tolerance Backward(float scale) => new(BackwardAbsolutePerScale * Math.Max(1, Math.Abs(scale)), 1e-5);

    /// <summary>Each case's scale: 1/8 as in attention, 10 as in the prompt-denoising filter (spec §10.3), −1 for the negative branch.</summary>
    private static readonly Dictionary<string, float> Scales = new()
    {
        ["1x1"] = 1, ["7x33"] = -1, ["441x21"] = 10, ["12x1025"] = 0.125f, ["197x197"] = 1,
    };

    public Type Op => typeof(Softmax);

    // 441x21: the VOC patch grid over 21 classes; 12x1025: one token's rows of 12 heads over 1025 keys.
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "441x21", "12x1025", "197x197"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        (int rows, int width) = CaseSize.Two(testCase);
        float scale = Scales[testCase];
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(rows * width, -4, 4), dy = random.Uniform(rows * width);
        float[] y = new float[rows * width], dx = new float[rows * width];
        Softmax.Reference(x, y, width, scale);
        Softmax.BackwardReference(dy, y, dx, width, scale);

        var outputs = new CheckOutputs("softmax", testCase);
        using Tensor tx = RandomTensors.On(device, x, rows, width), ty = Tensor.Empty([rows, width], DType.F32, device);
        outputs.Time(() => Softmax.Forward(tx, ty, scale));
        outputs.Compare("y", ty, y, Forward(scale));

        // The backward takes the reference y, so that dx is compared on equal inputs.
        using Tensor tdy = RandomTensors.On(device, dy, rows, width), tyRef = RandomTensors.On(device, y, rows, width);
        using Tensor tdx = Tensor.Empty([rows, width], DType.F32, device);
        outputs.Time(() => Softmax.Backward(tdy, tyRef, tdx, scale));
        outputs.Compare("dx", tdx, dx, Backward(scale));
        return outputs.Results;
    }
}
