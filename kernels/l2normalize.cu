// Row-wise L2 normalisation over the last dimension (CPU reference: src/Kernels/Ops/L2Normalize.cs):
//   forward:  norm = sqrt(sum x^2); y = x / norm (a division, as PyTorch's x / x.norm(...)); norm saved when given
//   backward: dx = (dy - y * (y . dy)) / norm
// No epsilon (spec §4.4): a zero row gives 0/0 = NaN and so does its gradient, as in PyTorch.
// One warp per row, 8 rows per block: the rows are the 512 channels of the patch features, 16 floats per
// lane, read coalesced; the row's sum is a warp shuffle and the row stays in L1 for the second pass.
// A float4 path runs when width % 4 == 0 and the pointers are 16-byte aligned, else scalar. y may be x
// (dx may be dy): each lane writes only the elements it alone read, after the reduction.

#include "warp.cuh"

extern "C" __global__ void l2normalize_forward(const float* x, float* y, float* __restrict__ norm, int rows, int width, int vectorised)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float* in = x + (long long)row * width;
    float* out = y + (long long)row * width;
    int vectors = vectorised ? width / 4 : 0;

    float squares = 0.0f;
    for (int v = lane; v < vectors; v += 32)
    {
        float4 a = reinterpret_cast<const float4*>(in)[v];
        squares += a.x * a.x + a.y * a.y + a.z * a.z + a.w * a.w;
    }
    for (int i = vectors * 4 + lane; i < width; i += 32)
        squares += in[i] * in[i];
    float length = sqrtf(warp_sum(squares));

    for (int v = lane; v < vectors; v += 32)
    {
        float4 a = reinterpret_cast<const float4*>(in)[v];
        reinterpret_cast<float4*>(out)[v] = make_float4(a.x / length, a.y / length, a.z / length, a.w / length);
    }
    for (int i = vectors * 4 + lane; i < width; i += 32)
        out[i] = in[i] / length;
    if (lane == 0 && norm) norm[row] = length;
}

extern "C" __global__ void l2normalize_backward(const float* dy, const float* y, const float* __restrict__ norm, float* dx,
    int rows, int width, int vectorised)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float* grad = dy + (long long)row * width;
    const float* unit = y + (long long)row * width;
    float* out = dx + (long long)row * width;
    int vectors = vectorised ? width / 4 : 0;

    float dot = warp_row_dot(grad, unit, width, vectors, lane);
    float length = norm[row];

    for (int v = lane; v < vectors; v += 32)
    {
        float4 g = reinterpret_cast<const float4*>(grad)[v], u = reinterpret_cast<const float4*>(unit)[v];
        reinterpret_cast<float4*>(out)[v] = make_float4((g.x - u.x * dot) / length, (g.y - u.y * dot) / length,
            (g.z - u.z * dot) / length, (g.w - u.w * dot) / length);
    }
    for (int i = vectors * 4 + lane; i < width; i += 32)
        out[i] = (grad[i] - unit[i] * dot) / length;
}
