// float32 → bfloat16 (CPU reference: src/Kernels/Ops/BFloat16Convert.cs, the BFloat16 struct), rounded as
// bfloat16.cuh says. Feeds the bfloat16 GEMMs of a tower whose linear weights are stored in bfloat16; the second kernel
// keeps the rounded values in float32 (a bias a float32 GEMM adds as a bfloat16 one would).

#include "bfloat16.cuh"

extern "C" __global__ void float_to_bfloat16(const float* __restrict__ x, unsigned short* __restrict__ y, long long count)
{
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
        y[e] = bfloat16_bits(x[e]);
}

extern "C" __global__ void float_rounded_to_bfloat16(const float* __restrict__ x, float* __restrict__ y, long long count)
{
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
        y[e] = bfloat16_value(bfloat16_bits(x[e]));
}
