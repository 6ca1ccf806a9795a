// BatchNorm2d over NCHW, training and eval forward and the backward pass (CPU references: src/Kernels/Ops/BatchNorm2d.cs,
// BatchNorm2dBackward.cs). The per-channel sums run one block per channel and accumulate in double, like the CPU
// path's double sums over planes; they are separate kernels so the launcher can all-reduce them between the
// passes (synchronised BatchNorm over data-parallel ranks). The elementwise passes apply y = x·s + t with s and t
// per channel, multiply and add rounded separately (no FMA contraction), as the CPU path's two vector passes do.
//   sums:     Σ x per channel;  squares: μ = Σx/n, then Σ (x − μ)²
//   update:   σ⁻¹ = 1/√(Σ(x − μ)²/n + eps), running statistics moved by the momentum (unbiased variance)
//   affine:   training s = γσ⁻¹, eval s = γ/√(running_var + eps); t = β − μ·s
//   backward: Σdy and Σdy·x̂ per channel (dβ and dγ), then dx = k·dy − k·Σdy/n − x̂·k·Σ(dy·x̂)/n with k = γσ⁻¹

#include "blocksum.cuh"

#define THREADS 256

// Grid (channels); sums[c] = Σ x[b, c, :].
extern "C" __global__ void batchnorm_sums(const float* __restrict__ x, double* __restrict__ sums, int batch, int channels, int spatial)
{
    __shared__ double scratch[THREADS];
    int c = blockIdx.x;
    double sum = 0.0;
    for (int b = 0; b < batch; b++)
    {
        const float* plane = x + ((long long)b * channels + c) * spatial;
        for (int i = threadIdx.x; i < spatial; i += THREADS) sum += plane[i];
    }
    double total = block_sum(sum, scratch);
    if (threadIdx.x == 0) sums[c] = total;
}

// Grid (channels); mean[c] = Σx/n as float (what normalises), squares[c] = Σ (x − mean)².
extern "C" __global__ void batchnorm_squares(const float* __restrict__ x, const double* __restrict__ sums, float* __restrict__ mean,
    double* __restrict__ squares, int batch, int channels, int spatial, long long n)
{
    __shared__ double scratch[THREADS];
    int c = blockIdx.x;
    float mu = (float)(sums[c] / n);
    double sum = 0.0;
    for (int b = 0; b < batch; b++)
    {
        const float* plane = x + ((long long)b * channels + c) * spatial;
        for (int i = threadIdx.x; i < spatial; i += THREADS)
        {
            float d = __fsub_rn(plane[i], mu);
            sum += (double)d * d;
        }
    }
    double total = block_sum(sum, scratch);
    if (threadIdx.x == 0)
    {
        mean[c] = mu;
        squares[c] = total;
    }
}

// One thread per channel: rstd, and the running statistics (in double, as the CPU path).
extern "C" __global__ void batchnorm_update(const double* __restrict__ squares, const float* __restrict__ mean, float* __restrict__ rstd,
    float* __restrict__ running_mean, float* __restrict__ running_var, int channels, long long n, float momentum, float eps)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    rstd[c] = (float)(1.0 / sqrt(squares[c] / n + eps));
    running_mean[c] = (float)((1.0 - momentum) * (double)running_mean[c] + (double)momentum * mean[c]);
    running_var[c] = (float)((1.0 - momentum) * (double)running_var[c] + (double)momentum * squares[c] / (n - 1));
}

// Grid-stride over B·C·H·W. `scale_source` is rstd (training) or the running variance (eval, from_variance = 1).
extern "C" __global__ void batchnorm_affine(const float* __restrict__ x, float* __restrict__ y, const float* __restrict__ mean,
    const float* __restrict__ scale_source, const float* __restrict__ gamma, const float* __restrict__ beta,
    int from_variance, float eps, int batch, int channels, int spatial)
{
    long long count = (long long)batch * channels * spatial;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int c = (int)(e / spatial % channels);
        float inverse = from_variance ? __fdiv_rn(1.0f, sqrtf(__fadd_rn(scale_source[c], eps))) : scale_source[c];
        float scale = __fmul_rn(gamma[c], inverse), shift = __fsub_rn(beta[c], __fmul_rn(mean[c], scale));
        y[e] = __fadd_rn(__fmul_rn(x[e], scale), shift);
    }
}

// Grid (channels): sums[c] = Σdy, sums[C + c] = Σdy·x̂; dbeta and dgamma get this rank's own sums.
extern "C" __global__ void batchnorm_backward_sums(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ rstd, double* __restrict__ sums, float* __restrict__ dgamma, float* __restrict__ dbeta,
    int batch, int channels, int spatial)
{
    __shared__ double scratch[THREADS];
    int c = blockIdx.x;
    float mu = mean[c], inverse = rstd[c];
    double gradient_sum = 0.0, gradient_dot = 0.0;
    for (int b = 0; b < batch; b++)
    {
        long long plane = ((long long)b * channels + c) * spatial;
        for (int i = threadIdx.x; i < spatial; i += THREADS)
        {
            float xhat = __fmul_rn(__fsub_rn(x[plane + i], mu), inverse);
            gradient_sum += dy[plane + i];
            gradient_dot += (double)dy[plane + i] * xhat;
        }
    }
    double total_sum = block_sum(gradient_sum, scratch);
    __syncthreads();
    double total_dot = block_sum(gradient_dot, scratch);
    if (threadIdx.x == 0)
    {
        sums[c] = total_sum;
        sums[channels + c] = total_dot;
        dgamma[c] = (float)total_dot;
        dbeta[c] = (float)total_sum;
    }
}

// Grid-stride over B·C·H·W, from the (all-reduced) sums.
extern "C" __global__ void batchnorm_backward_input(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ rstd, const float* __restrict__ gamma, const double* __restrict__ sums, float* __restrict__ dx,
    int batch, int channels, int spatial, long long n)
{
    long long count = (long long)batch * channels * spatial;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int c = (int)(e / spatial % channels);
        float k = __fmul_rn(gamma[c], rstd[c]);
        float offset = (float)(-(double)k * sums[c] / n), slope = (float)(-(double)k * sums[channels + c] / n);
        float xhat = __fmul_rn(__fsub_rn(x[e], mean[c]), rstd[c]);
        dx[e] = __fadd_rn(__fadd_rn(__fmul_rn(dy[e], k), __fmul_rn(xhat, slope)), offset);
    }
}
