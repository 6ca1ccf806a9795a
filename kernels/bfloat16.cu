// float32 → bfloat16 (CPU reference: src/Kernels/Ops/BFloat16Convert.cs, the BFloat16 struct): the upper 16 bits,
// rounded to nearest even; a NaN stays a NaN (quiet bit set), as PyTorch converts. Feeds the bfloat16 GEMMs of a tower
// whose linear weights are stored in bfloat16. No cuda_bf16.h (NVRTC runs without headers here): the bits by hand.

extern "C" __global__ void float_to_bfloat16(const float* __restrict__ x, unsigned short* __restrict__ y, long long count)
{
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        unsigned int bits = (unsigned int)__float_as_int(x[e]);
        bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
        y[e] = (unsigned short)(nan ? (bits >> 16) | 0x40u : (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }
}
