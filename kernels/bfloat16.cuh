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

// Float32 results stored as float32 or as bfloat16, for the kernels whose output feeds a bfloat16 GEMM (one element,
// two neighbours, four neighbours: the vector stores of each type; pointers aligned to the vector's size).
__device__ __forceinline__ void store_value(float* y, long long i, float value) { y[i] = value; }
__device__ __forceinline__ void store_value(unsigned short* y, long long i, float value) { y[i] = bfloat16_bits(value); }

__device__ __forceinline__ void store_pair(float* y, float a, float b) { *(float2*)y = make_float2(a, b); }
__device__ __forceinline__ void store_pair(unsigned short* y, float a, float b) { *(unsigned int*)y = bfloat16_pair(a, b); }

__device__ __forceinline__ void store_quad(float* y, float4 value) { *(float4*)y = value; }
__device__ __forceinline__ void store_quad(unsigned short* y, float4 value)
{
    *(uint2*)y = make_uint2(bfloat16_pair(value.x, value.y), bfloat16_pair(value.z, value.w));
}

// Loads of float32 or bfloat16 inputs as float32 (bfloat16 widens exactly), so one kernel body reads either.
__device__ __forceinline__ float bfloat16_value(unsigned int bits16) { return __int_as_float((int)(bits16 << 16)); }

__device__ __forceinline__ float load_value(const float* x, long long i) { return x[i]; }
__device__ __forceinline__ float load_value(const unsigned short* x, long long i) { return bfloat16_value(x[i]); }

__device__ __forceinline__ float2 load_pair(const float* x) { return *(const float2*)x; }
__device__ __forceinline__ float2 load_pair(const unsigned short* x)
{
    unsigned int bits = *(const unsigned int*)x;
    return make_float2(bfloat16_value(bits & 0xffffu), bfloat16_value(bits >> 16));
}

__device__ __forceinline__ float4 load_quad(const float* x) { return *(const float4*)x; }
__device__ __forceinline__ float4 load_quad(const unsigned short* x)
{
    uint2 bits = *(const uint2*)x;
    return make_float4(bfloat16_value(bits.x & 0xffffu), bfloat16_value(bits.x >> 16), bfloat16_value(bits.y & 0xffffu), bfloat16_value(bits.y >> 16));
}
