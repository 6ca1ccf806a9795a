// Softmax over the last dimension of scale * x (CPU reference: src/Kernels/Ops/Softmax.cs):
//   forward:  z = fl(scale * x) (z = x when scale == 1); y = exp(z - max z) / sum exp(z - max z)
//   backward: dx = scale * y * (dy - sum dy * y), computed as ((dy - dot) * y) * scale like the CPU path
// The CPU fast path follows PyTorch's float32 arithmetic (the prompt-denoising filter of spec §10.3 tests
// y == 1.0f exactly), so this does too: the shift is scale * max x (scale * min x for scale < 0), which
// equals max fl(scale * x) because rounding is monotone; z - shift is a separate rounding (__fmul_rn and
// __fsub_rn: no contraction into an FMA), float32 exponentials and a float32 sum, then a division.
// A row that is all -inf gives NaN (-inf - -inf), as in PyTorch.
// One warp per row, 8 rows per block: rows are class logits (20-150 wide) or attention scores (up to
// 1025), so a warp's lanes stride through a row with coalesced loads, the max and the sums are warp
// shuffles, and the row stays in L1 between its passes. A float4 path runs when width % 4 == 0 and the
// pointers are 16-byte aligned (every row is then aligned), else scalar. y may be x (dx may be dy): each
// lane writes only the elements it alone read, after the row's reductions.

#include "warp.cuh"

// exp(fl(scale * x) - shift) with the CPU path's roundings.
__device__ __forceinline__ float softmax_exp(float x, float scale, float shift)
{
    float z = scale == 1.0f ? x : __fmul_rn(scale, x);
    return expf(__fsub_rn(z, shift));
}

extern "C" __global__ void softmax_forward(const float* x, float* y, int rows, int width, float scale, int vectorised)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float* in = x + (long long)row * width;
    float* out = y + (long long)row * width;
    int vectors = vectorised ? width / 4 : 0;
    const float4* in4 = reinterpret_cast<const float4*>(in);
    float4* out4 = reinterpret_cast<float4*>(out);

    // fmaxf/fminf drop NaN; a NaN element still makes its own y NaN (and the row's sum NaN) below, as on the CPU.
    float high = __int_as_float(0xff800000), low = __int_as_float(0x7f800000);
    for (int v = lane; v < vectors; v += 32)
    {
        float4 a = in4[v];
        high = fmaxf(high, fmaxf(fmaxf(a.x, a.y), fmaxf(a.z, a.w)));
        low = fminf(low, fminf(fminf(a.x, a.y), fminf(a.z, a.w)));
    }
    for (int i = vectors * 4 + lane; i < width; i += 32)
    {
        high = fmaxf(high, in[i]);
        low = fminf(low, in[i]);
    }
    high = warp_max(high);
    low = warp_min(low);
    float shift = scale == 1.0f ? high : __fmul_rn(scale, scale >= 0.0f ? high : low);

    float sum = 0.0f;
    for (int v = lane; v < vectors; v += 32)
    {
        float4 a = in4[v];
        sum += softmax_exp(a.x, scale, shift) + softmax_exp(a.y, scale, shift) + softmax_exp(a.z, scale, shift) + softmax_exp(a.w, scale, shift);
    }
    for (int i = vectors * 4 + lane; i < width; i += 32)
        sum += softmax_exp(in[i], scale, shift);
    sum = warp_sum(sum);

    for (int v = lane; v < vectors; v += 32)
    {
        float4 a = in4[v];
        out4[v] = make_float4(softmax_exp(a.x, scale, shift) / sum, softmax_exp(a.y, scale, shift) / sum,
            softmax_exp(a.z, scale, shift) / sum, softmax_exp(a.w, scale, shift) / sum);
    }
    for (int i = vectors * 4 + lane; i < width; i += 32)
        out[i] = softmax_exp(in[i], scale, shift) / sum;
}

extern "C" __global__ void softmax_backward(const float* dy, const float* y, float* dx, int rows, int width, float scale, int vectorised)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float* grad = dy + (long long)row * width;
    const float* soft = y + (long long)row * width;
    float* out = dx + (long long)row * width;
    int vectors = vectorised ? width / 4 : 0;

    float dot = warp_row_dot(grad, soft, width, vectors, lane);

    for (int v = lane; v < vectors; v += 32)
    {
        float4 g = reinterpret_cast<const float4*>(grad)[v], s = reinterpret_cast<const float4*>(soft)[v];
        reinterpret_cast<float4*>(out)[v] = make_float4((g.x - dot) * s.x * scale, (g.y - dot) * s.y * scale,
            (g.z - dot) * s.z * scale, (g.w - dot) * s.w * scale);
    }
    for (int i = vectors * 4 + lane; i < width; i += 32)
        out[i] = (grad[i] - dot) * soft[i] * scale;
}
