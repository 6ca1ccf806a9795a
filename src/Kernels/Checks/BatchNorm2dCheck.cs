using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class BatchNorm2dCheck : IOpCheck
{
    // Statistics are float32 sums over n ≤ 16·32·32 values (per-plane, then in double over the batch);
    // y is O(1) and carries ~1e-6 relative error from them.
    private static readonly Tolerance Forward = new(1e-5, 1e-5);

    // dx subtracts two channel means from dy·γσ⁻¹, losing a few more bits than the forward; dγ and dβ are
    // sums over n values, so their absolute part grows like √n (scaled below).
    private static readonly Tolerance Backward = new(5e-5, 1e-4);

    public Type Op => typeof(BatchNorm2d);

    /// <summary>B x C x H x W: odd sizes, n = 3, and the decoders of VOC (1×20×21×21) and Cityscapes (16×19×32×32).</summary>
    public IReadOnlyList<string> Cases { get; } = ["2x3x5x7", "3x7x1x1", "1x20x21x21", "16x19x32x32"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] sizes = CaseSize.Parse(testCase);
        (int batch, int channels, int height, int width) = (sizes[0], sizes[1], sizes[2], sizes[3]);
        int count = batch * channels * height * width;
        const float momentum = BatchNorm2d.DefaultMomentum, eps = BatchNorm2d.DefaultEps;
        var random = new RandomTensors(seed);
        // Logits off-centre (mean ~1) so the mean subtraction matters.
        float[] x = random.Uniform(count, -1, 3), gamma = random.Uniform(channels, 0.5f, 1.5f), beta = random.Uniform(channels);
        float[] runningMean = random.Uniform(channels), runningVar = random.Uniform(channels, 0.5f, 1.5f), dy = random.Uniform(count);
        float[] newMean = (float[])runningMean.Clone(), newVar = (float[])runningVar.Clone();
        float[] y = new float[count], mean = new float[channels], rstd = new float[channels], yEval = new float[count];
        float[] dx = new float[count], dgamma = new float[channels], dbeta = new float[channels];
        BatchNorm2d.Reference(x, batch, gamma, beta, y, mean, rstd, newMean, newVar, momentum, eps);
        BatchNorm2d.EvalReference(x, batch, gamma, beta, newMean, newVar, yEval, eps);
        BatchNorm2d.BackwardReference(dy, x, batch, gamma, mean, rstd, dx, dgamma, dbeta);

        var outputs = new CheckOutputs("batchnorm2d", testCase);
        int[] shape = [batch, channels, height, width];
        using Tensor tx = RandomTensors.On(device, x, shape), tg = RandomTensors.On(device, gamma, channels), tb = RandomTensors.On(device, beta, channels);
        using Tensor trm = RandomTensors.On(device, runningMean, channels), trv = RandomTensors.On(device, runningVar, channels);
        using Tensor ty = Tensor.Empty(shape, DType.F32, device), tm = Tensor.Empty([channels], DType.F32, device), tr = Tensor.Empty([channels], DType.F32, device);
        outputs.Time(() => BatchNorm2d.ForwardTraining(tx, tg, tb, trm, trv, ty, tm, tr, momentum, eps));
        outputs.Compare("y", ty, y, Forward);
        outputs.Compare("mean", tm, mean, Forward);
        outputs.Compare("rstd", tr, rstd, Forward);
        outputs.Compare("running mean", trm, newMean, Forward);
        outputs.Compare("running var", trv, newVar, Forward);

        using Tensor tye = Tensor.Empty(shape, DType.F32, device);
        outputs.Time(() => BatchNorm2d.ForwardEval(tx, tg, tb, trm, trv, tye, eps));
        outputs.Compare("y eval", tye, yEval, Forward);

        using Tensor tdy = RandomTensors.On(device, dy, shape), tdx = Tensor.Empty(shape, DType.F32, device);
        using Tensor tdg = Tensor.Empty([channels], DType.F32, device), tdb = Tensor.Empty([channels], DType.F32, device);
        outputs.Time(() => BatchNorm2d.Backward(tdy, tx, tg, tm, tr, tdx, tdg, tdb));
        outputs.Compare("dx", tdx, dx, Backward);
        double perChannel = Math.Sqrt(batch * height * width);
        outputs.Compare("dgamma", tdg, dgamma, new Tolerance(Backward.Absolute * perChannel, Backward.Relative));
        outputs.Compare("dbeta", tdb, dbeta, new Tolerance(Backward.Absolute * perChannel, Backward.Relative));
        return outputs.Results;
    }
}
