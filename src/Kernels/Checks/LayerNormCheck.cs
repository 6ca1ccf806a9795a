using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class LayerNormCheck : IOpCheck
{
    // Inputs are O(1) and rows at most 3072 wide: float32 sums of that length carry ~1e-6 relative error.
    private static readonly Tolerance Forward = new(1e-5, 1e-5);

    // dx subtracts two row means from g; the difference of O(1) terms loses a few more bits than the forward.
    private static readonly Tolerance Backward = new(5e-5, 1e-4);

    public Type Op => typeof(LayerNorm);

    // Rows of whole 16-byte vectors up to 1024 wide take the kernels' register path, others its loop: 260 ends within the
    // last 128-wide slot of a warp's vectors, 1024 is the register path's widest, 1280 the loop's with whole vectors.
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "64x512", "197x768", "5x260", "2x1024", "3x1280"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        (int rows, int width) = CaseSize.Two(testCase);
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(rows * width, -2, 2), gamma = random.Uniform(width, 0.5f, 1.5f), beta = random.Uniform(width), dy = random.Uniform(rows * width);
        float[] y = new float[rows * width], mean = new float[rows], rstd = new float[rows];
        float[] dx = new float[rows * width], dgamma = new float[width], dbeta = new float[width];
        const float eps = 1e-5f;
        LayerNorm.Reference(x, gamma, beta, y, mean, rstd, eps);
        LayerNorm.BackwardReference(dy, x, gamma, mean, rstd, dx, dgamma, dbeta);

        var outputs = new CheckOutputs("layernorm", testCase);
        using Tensor tx = RandomTensors.On(device, x, rows, width), tg = RandomTensors.On(device, gamma, width), tb = RandomTensors.On(device, beta, width);
        using Tensor ty = Tensor.Empty([rows, width], DType.F32, device), tm = Tensor.Empty([rows], DType.F32, device), tr = Tensor.Empty([rows], DType.F32, device);
        outputs.Time(() => LayerNorm.Forward(tx, tg, tb, ty, eps, tm, tr));
        outputs.Compare("y", ty, y, Forward);
        outputs.Compare("mean", tm, mean, Forward);
        outputs.Compare("rstd", tr, rstd, Forward);
        using Tensor rounded = Tensor.Empty([rows, width], DType.BF16, device), kept = Tensor.Empty([rows, width], DType.F32, device);
        outputs.Time(() => LayerNorm.Forward(tx, tg, tb, rounded, eps, keep: kept));
        outputs.Compare("y in bfloat16", rounded, y, Forward.WithBFloat16Rounding());
        // A copy: the same bits.
        outputs.Compare("x kept", kept, x, new Tolerance(0, 0));
        // Kept beside a float32 y (the text tower's saved forward), and in place (ln_pre, ln_post).
        using Tensor keptBeside = Tensor.Empty([rows, width], DType.F32, device), yBeside = Tensor.Empty([rows, width], DType.F32, device);
        outputs.Time(() => LayerNorm.Forward(tx, tg, tb, yBeside, eps, keep: keptBeside));
        outputs.Compare("y beside x kept", yBeside, y, Forward);
        outputs.Compare("x kept beside a float32 y", keptBeside, x, new Tolerance(0, 0));
        using Tensor inPlace = RandomTensors.On(device, x, rows, width);
        LayerNorm.Forward(inPlace, tg, tb, inPlace, eps);
        outputs.Compare("y in place", inPlace, y, Forward);

        using Tensor tdy = RandomTensors.On(device, dy, rows, width);
        using Tensor tdx = Tensor.Empty([rows, width], DType.F32, device), tdg = Tensor.Empty([width], DType.F32, device), tdb = Tensor.Empty([width], DType.F32, device);
        outputs.Time(() => LayerNorm.Backward(tdy, tx, tg, tm, tr, tdx, tdg, tdb));
        outputs.Compare("dx", tdx, dx, Backward);
        outputs.Compare("dgamma", tdg, dgamma, new Tolerance(Backward.Absolute * rows, Backward.Relative));
        outputs.Compare("dbeta", tdb, dbeta, new Tolerance(Backward.Absolute * rows, Backward.Relative));

        // The residual stream's form: dx added to a stream of O(1) values.
        float[] stream = random.Uniform(rows * width), added = new float[rows * width];
        for (int i = 0; i < added.Length; i++) added[i] = stream[i] + dx[i];
        using Tensor tstream = RandomTensors.On(device, stream, rows, width);
        outputs.Time(() => LayerNorm.BackwardAdding(tdy, tx, tg, tm, tr, tstream));
        outputs.Compare("dx added to a stream", tstream, added, Backward);
        return outputs.Results;
    }
}
