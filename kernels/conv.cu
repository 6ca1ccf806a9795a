// The stride-1 "same" convolution's non-GEMM parts (CPU reference: src/Kernels/Ops/Conv2d.cs, Conv2dBackward.cs,
// ConvColumns.cs); the launcher runs the GEMMs on cuBLAS, batched over the images.
//   conv_gather:  im2col, columns[b, (c, ky, kx), (y, x)] = x[b, c, y + ky − pad, x + kx − pad], 0 outside
//   conv_scatter: its adjoint col2im, written as a gather: dx[b, c, y, x] = Σ_{ky,kx} columns[b, (c, ky, kx), (y − ky + pad, x − kx + pad)]
//                 over the positions inside the image; every dx element is one thread's sum, so no atomics and a fixed order
//   conv_fill_bias: y[b, o, :] = bias[o], which the forward GEMM then accumulates onto (beta = 1), as on the CPU
//   conv_bias_gradient: dbias[o] = Σ_b Σ_(y,x) dy[b, o, y, x]; one block per output channel, a tree sum in double

#include "blocksum.cuh"

extern "C" __global__ void conv_gather(const float* __restrict__ x, float* __restrict__ columns,
    int batch, int channels, int height, int width, int kernel)
{
    int pad = kernel / 2, plane = height * width, depth = channels * kernel * kernel;
    long long count = (long long)batch * depth * plane;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int position = (int)(e % plane);
        long long row = e / plane;
        int k = (int)(row % depth), b = (int)(row / depth);
        int c = k / (kernel * kernel), ky = k / kernel % kernel, kx = k % kernel;
        int sy = position / width + ky - pad, sx = position % width + kx - pad;
        columns[e] = sy >= 0 && sy < height && sx >= 0 && sx < width ? x[((long long)b * channels + c) * plane + sy * width + sx] : 0.0f;
    }
}

extern "C" __global__ void conv_scatter(const float* __restrict__ columns, float* __restrict__ dx,
    int batch, int channels, int height, int width, int kernel)
{
    int pad = kernel / 2, plane = height * width, depth = channels * kernel * kernel;
    long long count = (long long)batch * channels * plane;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int position = (int)(e % plane), y = position / width, x = position % width;
        long long image_channel = e / plane;
        int c = (int)(image_channel % channels), b = (int)(image_channel / channels);
        const float* rows = columns + ((long long)b * depth + (long long)c * kernel * kernel) * plane;
        float sum = 0.0f;
        for (int ky = 0; ky < kernel; ky++)
        {
            int oy = y - ky + pad;
            if (oy < 0 || oy >= height) continue;
            for (int kx = 0; kx < kernel; kx++)
            {
                int ox = x - kx + pad;
                if (ox >= 0 && ox < width) sum += rows[(long long)(ky * kernel + kx) * plane + oy * width + ox];
            }
        }
        dx[e] = sum;
    }
}

extern "C" __global__ void conv_fill_bias(float* __restrict__ y, const float* __restrict__ bias, int batch, int out_channels, int plane)
{
    long long count = (long long)batch * out_channels * plane;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
        y[e] = bias[(int)(e / plane % out_channels)];
}

// 256 threads per block, one block per output channel.
extern "C" __global__ void conv_bias_gradient(const float* __restrict__ dy, float* __restrict__ dbias, int batch, int out_channels, int plane)
{
    __shared__ double partial[256];
    int o = blockIdx.x;
    double sum = 0.0;
    for (int b = 0; b < batch; b++)
    {
        const float* gradient = dy + ((long long)b * out_channels + o) * plane;
        for (int i = threadIdx.x; i < plane; i += blockDim.x) sum += gradient[i];
    }
    double total = block_sum(sum, partial);
    if (threadIdx.x == 0) dbias[o] = (float)total;
}
