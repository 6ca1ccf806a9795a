// Hard Gumbel-softmax with the straight-through gradient (CPU reference: src/Kernels/Ops/GumbelSoftmax.cs):
//   z = (fl(scale * O) + g) / tau, each step rounded separately (__fmul_rn, __fadd_rn, __fdiv_rn: no FMA);
//   y_soft = exp(z - max z) * (1 / sum exp(z - max z)) (the CPU path multiplies by the reciprocal);
//   hard = the first index of max y_soft; mask = (onehot(hard) - y_soft) + y_soft, in that order.
//   backward: dO = ((dmask - sum dmask * y_soft) * y_soft) * (scale / tau).
// The noise g = -log(-log u) is either given (a non-null noise pointer) or drawn here from Philox4x32-10
// exactly as src/Kernels/Random/Philox.cs draws it: key = (seed low, seed high); element index i = row*C + c
// uses counter (block low, block high, stream low, stream high) with block = i / 4 and takes word i % 4;
// u = (bits >> 9) * 2^-23 + 2^-24 (exact in float32). The Philox words are bit-identical to the CPU's; the
// two logarithms are CUDA's logf, which may differ from .NET's by an ulp (well inside the check's tolerance).
// One warp per row, 8 rows per block (rows are 20-150 classes). y_soft doubles as the row's scratch: pass 1
// writes z there, pass 2 replaces it by exp(z - max), pass 3 by y_soft, and each lane only ever touches its
// own elements, so no synchronisation beyond the warp reductions is needed. Scalar loads: rows of 20 or 150
// floats are neither 16-byte multiples nor long enough for float4 to pay.

#include "warp.cuh"

__device__ __forceinline__ void philox_round(unsigned int& c0, unsigned int& c1, unsigned int& c2, unsigned int& c3,
    unsigned int k0, unsigned int k1)
{
    unsigned int hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    unsigned int hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    unsigned int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
}

// Philox4x32-10 in place: counter (c0..c3) becomes the block's four output words under key (k0, k1).
__device__ __forceinline__ void philox_block(unsigned int& c0, unsigned int& c1, unsigned int& c2, unsigned int& c3,
    unsigned int k0, unsigned int k1)
{
    for (int round = 0; round < 10; round++)
    {
        if (round > 0)
        {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        philox_round(c0, c1, c2, c3, k0, k1);
    }
}

// Word (index % 4) of Philox4x32-10 at counter (index / 4, stream) under key seed.
__device__ __forceinline__ unsigned int philox_bits(unsigned long long seed, unsigned long long stream, unsigned long long index)
{
    unsigned long long block = index >> 2;
    unsigned int c0 = (unsigned int)block, c1 = (unsigned int)(block >> 32);
    unsigned int c2 = (unsigned int)stream, c3 = (unsigned int)(stream >> 32);
    philox_block(c0, c1, c2, c3, (unsigned int)seed, (unsigned int)(seed >> 32));
    switch ((int)(index & 3))
    {
        case 0: return c0;
        case 1: return c1;
        case 2: return c2;
        default: return c3;
    }
}

__device__ __forceinline__ float philox_uniform(unsigned int bits)
{
    const float step = 1.0f / 8388608.0f; // 2^-23
    return __fadd_rn(__fmul_rn((float)(bits >> 9), step), step / 2.0f);
}

// The row after z is known: softmax into soft, then the straight-through mask.
__device__ void gumbel_row(float* soft, float* mask, int classes, int lane, float high)
{
    high = warp_max(high);
    float sum = 0.0f;
    for (int c = lane; c < classes; c += 32)
    {
        float e = expf(__fsub_rn(soft[c], high));
        soft[c] = e;
        sum += e;
    }
    float inverse = 1.0f / warp_sum(sum);
    // First maximum of y_soft (TensorPrimitives.IndexOfMax: the first of equal maxima), combined across lanes
    // by argmax_better (kernels/warp.cuh); a lane with no element holds (-inf, INT_MAX).
    float best = __int_as_float(0xff800000);
    int best_index = 0x7fffffff;
    for (int c = lane; c < classes; c += 32)
    {
        float y = __fmul_rn(soft[c], inverse);
        soft[c] = y;
        if (argmax_better(y, c, best, best_index))
        {
            best = y;
            best_index = c;
        }
    }
    warp_argmax(best, best_index);
    for (int c = lane; c < classes; c += 32)
    {
        float y = soft[c];
        mask[c] = __fadd_rn(__fsub_rn(c == best_index ? 1.0f : 0.0f, y), y);
    }
}

// noise is the Gumbel noise g per element when given (parity with PyTorch, whose RNG we cannot replay);
// when it is null, g = -log(-log U) with U from Philox (seed, stream, first + element index), as the CPU path draws it.
// stream_at, when not null, holds the stream in device memory instead: a training step replayed as a CUDA graph keeps
// its launch arguments, so each step writes its number there before the replay.
extern "C" __global__ void gumbel_softmax_forward(const float* __restrict__ logits, const float* __restrict__ noise,
    float* __restrict__ mask, float* __restrict__ y_soft, int rows, int classes, float scale, float tau,
    unsigned long long seed, unsigned long long stream, unsigned long long first, const unsigned long long* __restrict__ stream_at)
{
    if (stream_at) stream = *stream_at;
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    long long at = (long long)row * classes;
    float* soft = y_soft + at;
    float high = __int_as_float(0xff800000);
    for (int c = lane; c < classes; c += 32)
    {
        float g = noise ? noise[at + c] : -logf(-logf(philox_uniform(philox_bits(seed, stream, first + (unsigned long long)(at + c)))));
        float z = __fadd_rn(__fmul_rn(scale, logits[at + c]), g);
        if (tau != 1.0f) z = __fdiv_rn(z, tau);
        soft[c] = z;
        high = fmaxf(high, z);
    }
    gumbel_row(soft, mask + at, classes, lane, high);
}

extern "C" __global__ void gumbel_softmax_backward(const float* __restrict__ d_mask, const float* __restrict__ y_soft,
    float* __restrict__ d_logits, int rows, int classes, float factor)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    long long at = (long long)row * classes;
    float dot = warp_row_dot(d_mask + at, y_soft + at, classes, 0, lane);
    for (int c = lane; c < classes; c += 32)
        d_logits[at + c] = __fmul_rn(__fmul_rn(__fsub_rn(d_mask[at + c], dot), y_soft[at + c]), factor);
}
