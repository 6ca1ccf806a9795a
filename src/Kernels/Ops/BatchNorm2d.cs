using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// BatchNorm2d over x [B, C, H, W] (NCHW), per channel c over its n = B·H·W values (spec §6 step 4,
/// decoder_norm2): y = (x − μ_c)·σ⁻¹_c·γ_c + β_c with σ⁻¹ = 1/√(σ² + eps).
/// Training mode takes μ, σ² from the batch (σ² biased, ÷n) and updates the running statistics with
/// momentum m: running_mean ← (1 − m)·running_mean + m·μ, running_var ← (1 − m)·running_var + m·σ²·n/(n − 1)
/// (unbiased); eval mode uses the running statistics instead. The backward (training mode, through both
/// batch statistics) is in BatchNorm2dBackward.cs. PyTorch's defaults: m = 0.1, eps = 1e-5.
/// </summary>
public static partial class BatchNorm2d
{
    public const float DefaultMomentum = 0.1f;
    public const float DefaultEps = 1e-5f;

    /// <summary>
    /// The definition of the training-mode forward, in double. x, y [B, C, H, W]; gamma, beta [C]; mean, rstd [C]
    /// receive the batch μ and σ⁻¹ for the backward; runningMean, runningVar [C] are updated in place.
    /// </summary>
    public static void Reference(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> mean, Span<float> rstd, Span<float> runningMean, Span<float> runningVar, float momentum, float eps)
    {
        int channels = gamma.Length, spatial = x.Length / (batch * channels), n = batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            double mu = 0, variance = 0;
            for (int b = 0; b < batch; b++)
                foreach (float v in x.Slice((b * channels + c) * spatial, spatial)) mu += v;
            mu /= n;
            for (int b = 0; b < batch; b++)
                foreach (float v in x.Slice((b * channels + c) * spatial, spatial)) variance += (v - mu) * (v - mu);
            double inverse = 1 / Math.Sqrt(variance / n + eps);
            for (int b = 0; b < batch; b++)
                for (int i = (b * channels + c) * spatial, stop = i + spatial; i < stop; i++)
                    y[i] = (float)((x[i] - mu) * inverse * gamma[c] + beta[c]);
            mean[c] = (float)mu;
            rstd[c] = (float)inverse;
            runningMean[c] = (float)((1 - momentum) * runningMean[c] + momentum * mu);
            runningVar[c] = (float)((1 - momentum) * runningVar[c] + momentum * variance / (n - 1));
        }
    }

    /// <summary>The definition of the eval-mode forward: the running statistics in place of the batch's.</summary>
    public static void EvalReference(ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, Span<float> y, float eps)
    {
        int channels = gamma.Length, spatial = x.Length / (batch * channels);
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / spatial % channels;
            y[i] = (float)((x[i] - (double)runningMean[c]) / Math.Sqrt(runningVar[c] + (double)eps) * gamma[c] + beta[c]);
        }
    }

    /// <summary>
    /// Training-mode forward: y from the batch statistics, which are saved in mean and rstd ([C]);
    /// runningMean and runningVar ([C]) are updated in place. Needs n = B·H·W ≥ 2, as PyTorch does.
    /// With <paramref name="group"/>, x is this rank's part of a data-parallel batch (possibly no image at all) and
    /// the statistics are those of the whole batch (synchronised BatchNorm): the per-channel sums of both passes are
    /// all-reduced and n counts every rank's values, so every rank normalises and updates its running statistics
    /// exactly as one process holding the whole batch would, up to the order of the sums.
    /// </summary>
    public static void ForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, Tensor mean, Tensor rstd,
        float momentum = DefaultMomentum, float eps = DefaultEps, ICollective? group = null)
    {
        const string op = "BatchNorm2d.ForwardTraining";
        (int batch, int channels, int spatial) = Sizes(op, x, ("gamma", gamma), ("beta", beta), ("runningMean", runningMean), ("runningVar", runningVar), ("mean", mean), ("rstd", rstd));
        Shape.Require(op + " y", x.Shape, y.Shape);
        long n = GlobalCount(group, (long)batch * spatial);
        if (n < 2)
            throw new ArgumentException($"{op}: x {Shape.Format(x.Shape)} has {n} value per channel; training needs at least 2");
        if (!y.Device.IsCpu)
        {
            ForwardTrainingCuda(x, gamma, beta, runningMean, runningVar, y, mean, rstd, momentum, eps, group, n);
            return;
        }
        OpGuard.Cpu(op, x, gamma, beta, runningMean, runningVar, y, mean, rstd);
        // Two passes (mean, then squared deviations) as PyTorch does; per-plane float sums, added in double.
        double[] sums = new double[channels], squares = new double[channels];
        unsafe
        {
            nint ax = (nint)x.Pointer<float>(), ay = (nint)y.Pointer<float>(), ag = (nint)gamma.Pointer<float>(), ab = (nint)beta.Pointer<float>();
            nint am = (nint)mean.Pointer<float>(), ar = (nint)rstd.Pointer<float>();
            nint arm = (nint)runningMean.Pointer<float>(), arv = (nint)runningVar.Pointer<float>();
            long work = (long)batch * spatial;
            ParallelRows.For(channels, work, (start, end) =>
            {
                for (int c = start; c < end; c++)
                    for (int b = 0; b < batch; b++)
                        sums[c] += TensorPrimitives.Sum(Plane(ax, b, c, channels, spatial));
            });
            group?.AllReduceSum(sums);
            ParallelRows.For(channels, work, (start, end) =>
            {
                for (int c = start; c < end; c++)
                {
                    float mu = (float)(sums[c] / n);
                    ((float*)am)[c] = mu;
                    for (int b = 0; b < batch; b++)
                    {
                        Span<float> output = Plane(ay, b, c, channels, spatial);
                        TensorPrimitives.Subtract(Plane(ax, b, c, channels, spatial), mu, output);
                        squares[c] += TensorPrimitives.SumOfSquares(output);
                    }
                }
            });
            group?.AllReduceSum(squares);
            ParallelRows.For(channels, work, (start, end) =>
            {
                for (int c = start; c < end; c++)
                {
                    float mu = ((float*)am)[c], inverse = (float)(1 / Math.Sqrt(squares[c] / n + eps));
                    Affine(ax, ay, batch, c, channels, spatial, mu, inverse, ((float*)ag)[c], ((float*)ab)[c]);
                    ((float*)ar)[c] = inverse;
                    float* runMean = (float*)arm + c, runVar = (float*)arv + c;
                    *runMean = (float)((1 - momentum) * (double)*runMean + momentum * (double)mu);
                    *runVar = (float)((1 - momentum) * (double)*runVar + momentum * squares[c] / (n - 1));
                }
            });
        }
    }

    /// <summary>n, the values per channel of the whole batch: this rank's count, summed over the group when there is one.</summary>
    private static long GlobalCount(ICollective? group, long local)
    {
        if (group is null)
            return local;
        Span<double> count = [local];
        group.AllReduceSum(count);
        return (long)count[0];
    }

    /// <summary>Eval-mode forward: y = (x − running_mean)/√(running_var + eps)·γ + β.</summary>
    public static void ForwardEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, float eps = DefaultEps)
    {
        const string op = "BatchNorm2d.ForwardEval";
        (int batch, int channels, int spatial) = Sizes(op, x, ("gamma", gamma), ("beta", beta), ("runningMean", runningMean), ("runningVar", runningVar));
        Shape.Require(op + " y", x.Shape, y.Shape);
        if (!y.Device.IsCpu)
        {
            ForwardEvalCuda(x, gamma, beta, runningMean, runningVar, y, eps);
            return;
        }
        OpGuard.Cpu(op, x, gamma, beta, runningMean, runningVar, y);
        unsafe
        {
            nint ax = (nint)x.Pointer<float>(), ay = (nint)y.Pointer<float>(), ag = (nint)gamma.Pointer<float>(), ab = (nint)beta.Pointer<float>();
            nint arm = (nint)runningMean.Pointer<float>(), arv = (nint)runningVar.Pointer<float>();
            ParallelRows.For(channels, (long)batch * spatial, (start, end) =>
            {
                for (int c = start; c < end; c++)
                {
                    float inverse = 1 / MathF.Sqrt(((float*)arv)[c] + eps);
                    Affine(ax, ay, batch, c, channels, spatial, ((float*)arm)[c], inverse, ((float*)ag)[c], ((float*)ab)[c]);
                }
            });
        }
    }

    /// <summary>
    /// y = x·(γσ⁻¹) + (β − μ·γσ⁻¹) over channel c of every image: one multiply-add per element, the
    /// form PyTorch's CPU kernel applies (in both modes).
    /// </summary>
    private static unsafe void Affine(nint x, nint y, int batch, int c, int channels, int spatial, float mu, float inverse, float gamma, float beta)
    {
        float scale = gamma * inverse, shift = beta - mu * scale;
        for (int image = 0; image < batch; image++)
        {
            Span<float> output = Plane(y, image, c, channels, spatial);
            TensorPrimitives.Multiply(Plane(x, image, c, channels, spatial), scale, output);
            TensorPrimitives.Add(output, shift, output);
        }
    }

    /// <summary>The H·W values of channel c of image b in an NCHW buffer.</summary>
    internal static unsafe Span<float> Plane(nint data, int b, int c, int channels, int spatial) =>
        new((float*)data + ((long)b * channels + c) * spatial, spatial);

    /// <summary>Checks the shapes of x [B, C, H, W] and the per-channel vectors [C]; returns (B, C, H·W). The device is the caller's to check.</summary>
    internal static (int Batch, int Channels, int Spatial) Sizes(string op, Tensor x, params ReadOnlySpan<(string Name, Tensor Tensor)> perChannel)
    {
        if (x.Rank != 4)
            throw new TensorShapeException($"{op}: x {Shape.Format(x.Shape)} must be [B, C, H, W]");
        foreach ((string name, Tensor vector) in perChannel)
            Shape.Require($"{op} {name}", [x.Size(1)], vector.Shape);
        return (x.Size(0), x.Size(1), x.Size(2) * x.Size(3));
    }
}
