using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The training-mode backward of <see cref="BatchNorm2d"/>, through both batch statistics: per channel,
/// with x̂ = (x − μ)σ⁻¹ and sums over its n = B·H·W values,
/// dx = γσ⁻¹·(dy − Σdy/n − x̂·Σ(dy·x̂)/n); dγ = Σ dy·x̂; dβ = Σ dy.
/// </summary>
public static partial class BatchNorm2d
{
    /// <summary>The definition, in double. mean and rstd are the batch statistics the training forward saved.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int batch, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        int channels = gamma.Length, spatial = x.Length / (batch * channels), n = batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            double gradSum = 0, gradDot = 0;
            for (int b = 0; b < batch; b++)
                for (int i = (b * channels + c) * spatial, stop = i + spatial; i < stop; i++)
                {
                    gradSum += dy[i];
                    gradDot += dy[i] * ((x[i] - (double)mean[c]) * rstd[c]);
                }
            for (int b = 0; b < batch; b++)
                for (int i = (b * channels + c) * spatial, stop = i + spatial; i < stop; i++)
                {
                    double xhat = (x[i] - (double)mean[c]) * rstd[c];
                    dx[i] = (float)((double)gamma[c] * rstd[c] * (dy[i] - gradSum / n - xhat * gradDot / n));
                }
            dgamma[c] = (float)gradDot;
            dbeta[c] = (float)gradSum;
        }
    }

    /// <summary>
    /// dx [B, C, H, W], dgamma and dbeta [C] from dy and the forward's saved mean and rstd ([C]). With
    /// <paramref name="group"/> (synchronised BatchNorm, see <see cref="ForwardTraining"/>), Σdy and Σdy·x̂ of the whole
    /// batch form dx, since every value of the batch moved the shared μ and σ; dgamma and dbeta stay this rank's own
    /// sums, for the gradient all-reduce of the step to add up like every other parameter gradient.
    /// </summary>
    public static void Backward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor dgamma, Tensor dbeta, ICollective? group = null)
    {
        const string op = "BatchNorm2d.Backward";
        (int batch, int channels, int spatial) = Sizes(op, x, ("gamma", gamma), ("mean", mean), ("rstd", rstd), ("dgamma", dgamma), ("dbeta", dbeta));
        Shape.Require(op + " dy", x.Shape, dy.Shape);
        Shape.Require(op + " dx", x.Shape, dx.Shape);
        long n = GlobalCount(group, (long)batch * spatial), work = 2L * batch * spatial;
        if (!dx.Device.IsCpu)
        {
            BackwardCuda(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, group, n);
            return;
        }
        OpGuard.Cpu(op, dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
        // Σdy of channel c at [c], Σdy·x̂ at [C + c]: one all-reduce for both.
        double[] sums = new double[2 * channels];
        unsafe
        {
            nint ady = (nint)dy.Pointer<float>(), ax = (nint)x.Pointer<float>(), adx = (nint)dx.Pointer<float>(), ag = (nint)gamma.Pointer<float>();
            nint am = (nint)mean.Pointer<float>(), ar = (nint)rstd.Pointer<float>(), adg = (nint)dgamma.Pointer<float>(), adb = (nint)dbeta.Pointer<float>();
            ParallelRows.For(channels, work, (start, end) =>
            {
                for (int c = start; c < end; c++)
                {
                    float mu = ((float*)am)[c], inverse = ((float*)ar)[c];
                    // Pass 1: dx holds x̂ for now; Σdy and Σdy·x̂ per plane in float, added up in double.
                    double gradSum = 0, gradDot = 0;
                    for (int b = 0; b < batch; b++)
                    {
                        Span<float> xhat = Plane(adx, b, c, channels, spatial);
                        ReadOnlySpan<float> grad = Plane(ady, b, c, channels, spatial);
                        TensorPrimitives.Subtract(Plane(ax, b, c, channels, spatial), mu, xhat);
                        TensorPrimitives.Multiply(xhat, inverse, xhat);
                        gradSum += TensorPrimitives.Sum(grad);
                        gradDot += TensorPrimitives.Dot(grad, xhat);
                    }
                    sums[c] = gradSum;
                    sums[channels + c] = gradDot;
                    ((float*)adg)[c] = (float)gradDot;
                    ((float*)adb)[c] = (float)gradSum;
                }
            });
            group?.AllReduceSum(sums);
            ParallelRows.For(channels, work, (start, end) =>
            {
                for (int c = start; c < end; c++)
                {
                    // Pass 2: dx = k·dy − k·Σdy/n − x̂·(k·Σ(dy·x̂)/n) with k = γσ⁻¹, in three vector passes.
                    float k = ((float*)ag)[c] * ((float*)ar)[c];
                    float offset = (float)(-k * sums[c] / n), slope = (float)(-k * sums[channels + c] / n);
                    for (int b = 0; b < batch; b++)
                    {
                        Span<float> output = Plane(adx, b, c, channels, spatial);
                        TensorPrimitives.Multiply(output, slope, output);
                        TensorPrimitives.MultiplyAdd(Plane(ady, b, c, channels, spatial), k, output, output);
                        TensorPrimitives.Add(output, offset, output);
                    }
                }
            });
        }
    }
}
