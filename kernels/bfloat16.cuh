// float32 → bfloat16 bits, shared by the conversion kernel and the tensor-core kernels: the upper 16 bits, rounded to
// nearest even; a NaN stays a NaN (quiet bit set), as PyTorch converts. By hand, since NVRTC runs without cuda_bf16.h here.
#pragma once

__device__ __forceinline__ unsigned short bfloat16_bits(float value)
{
    unsigned int bits = (unsigned int)__float_as_int(value);
    bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
    return (unsigned short)(nan ? (bits >> 16) | 0x40u : (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// Two values as one 32-bit register of a tensor-core fragment: `low` in bits 0…15, `high` in bits 16…31.
__device__ __forceinline__ unsigned int bfloat16_pair(float low, float high)
{
    return (unsigned int)bfloat16_bits(low) | ((unsigned int)bfloat16_bits(high) << 16);
}
