// QuickGELU, CLIP's MLP activation (CPU reference: src/Kernels/Ops/QuickGelu.cs), alpha = 1.702f:
//   forward:  y = x / (1 + exp(-alpha * x))          (= x * sigmoid(alpha * x); y may be x itself)
//   backward: dx = dy * s * (1 + x * alpha * (1 - s)) with s = 1 / (1 + exp(-alpha * x))
//             (1 - s), not e * s: at x -> -inf, e = inf and s = 0, and e * s would be NaN.
// Elementwise and memory-bound: a grid-stride loop over float4 vectors when every pointer is 16-byte
// aligned (the launcher checks), then a scalar tail of count % 4 elements (all of them when unaligned).
// Each element is read before it is written by the same thread, so the in-place forms are safe; for that
// reason no pointer is __restrict__. The bias before it is added by the GEMM's epilogue.

#include "bfloat16.cuh"

#define QUICKGELU_ALPHA 1.702f

__device__ __forceinline__ float quickgelu(float x) { return x / (1.0f + expf(-QUICKGELU_ALPHA * x)); }

// Into float32 as above; into bfloat16 with the fast exponential and division, whose few float32 ulps (at most about
// 1e-5 relative where the exponential nears overflow) are far under bfloat16's rounding (2⁻⁹), though they may move a
// value across a rounding boundary (one bfloat16 step, within selfcheck's bfloat16 tolerance): with the precise ones
// the bfloat16 kernel was bound by its instructions, not its bytes (0.37 ms for 50432×3072 elements on an H200, as
// long as the float32 kernel, which moves twice the bytes). Below x ≈ −51.3 the divisor passes 2¹²⁶ and the fast
// division gives −0, where the precise one gives −0 from x ≈ −52.1 on and values under 1e-35 between; x = −∞ gives
// NaN on both, as PyTorch does.
template <typename Out>
__device__ __forceinline__ float quickgelu_into(float x)
{
    if constexpr (sizeof(Out) == 2)
        return __fdividef(x, 1.0f + __expf(-QUICKGELU_ALPHA * x));
    else
        return quickgelu(x);
}

__device__ __forceinline__ float quickgelu_grad(float dy, float x)
{
    float s = 1.0f / (1.0f + expf(-QUICKGELU_ALPHA * x));
    return dy * s * (1.0f + x * QUICKGELU_ALPHA * (1.0f - s));
}

// y is float32, or bfloat16 when it only feeds a bfloat16 GEMM: from float32 x (quickgelu_forward_bf16, never in
// place) or from bfloat16 x, the output of a GEMM that stores bfloat16 (quickgelu_forward_bf16_bf16, in place or not).
template <typename In, typename Out>
__device__ __forceinline__ void quickgelu_elements(const In* x, Out* y, long long count, int vectorised)
{
    long long stride = (long long)gridDim.x * blockDim.x;
    long long start = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long vectors = vectorised ? count / 4 : 0;
    for (long long v = start; v < vectors; v += stride)
    {
        float4 a = load_quad(x + 4 * v);
        store_quad(y + 4 * v, make_float4(quickgelu_into<Out>(a.x), quickgelu_into<Out>(a.y), quickgelu_into<Out>(a.z), quickgelu_into<Out>(a.w)));
    }
    for (long long i = vectors * 4 + start; i < count; i += stride)
        store_value(y, i, quickgelu_into<Out>(load_value(x, i)));
}

extern "C" __global__ void quickgelu_forward(const float* x, float* y, long long count, int vectorised)
{
    quickgelu_elements(x, y, count, vectorised);
}

extern "C" __global__ void quickgelu_forward_bf16(const float* x, unsigned short* y, long long count, int vectorised)
{
    quickgelu_elements(x, y, count, vectorised);
}

extern "C" __global__ void quickgelu_forward_bf16_bf16(const unsigned short* x, unsigned short* y, long long count, int vectorised)
{
    quickgelu_elements(x, y, count, vectorised);
}

extern "C" __global__ void quickgelu_backward(const float* dy, const float* x, float* dx, long long count, int vectorised)
{
    long long stride = (long long)gridDim.x * blockDim.x;
    long long start = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long vectors = vectorised ? count / 4 : 0;
    for (long long v = start; v < vectors; v += stride)
    {
        float4 g = reinterpret_cast<const float4*>(dy)[v];
        float4 a = reinterpret_cast<const float4*>(x)[v];
        reinterpret_cast<float4*>(dx)[v] = make_float4(quickgelu_grad(g.x, a.x), quickgelu_grad(g.y, a.y),
            quickgelu_grad(g.z, a.z), quickgelu_grad(g.w, a.w));
    }
    for (long long i = vectors * 4 + start; i < count; i += stride)
        dx[i] = quickgelu_grad(dy[i], x[i]);
}
