// Warp-wide reductions shared by the row kernels (one warp per row): butterfly shuffles, so every lane ends
// with the result and the order of the additions is fixed (deterministic from run to run).
#pragma once

__device__ __forceinline__ float warp_sum(float value)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

__device__ __forceinline__ float warp_max(float value)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
    return value;
}

__device__ __forceinline__ float warp_min(float value)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        value = fminf(value, __shfl_xor_sync(0xffffffffu, value, offset));
    return value;
}

// Sum and max over a group of `lanes` consecutive lanes (a power of two, groups aligned to it), e.g. the threads
// that share one row of an attention tile: xor offsets 1, 2, … below `lanes` stay inside the group.
__device__ __forceinline__ float lanes_sum(float value, int lanes)
{
    for (int offset = 1; offset < lanes; offset <<= 1)
        value += __shfl_xor_sync(0xffffffffu, value, offset);
    return value;
}

__device__ __forceinline__ float lanes_max(float value, int lanes)
{
    for (int offset = 1; offset < lanes; offset <<= 1)
        value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
    return value;
}

// (value, index) beats (best, best_index) as torch.argmax on the CPU ranks them: a NaN first, then the
// larger value, then the smaller index (the first maximum wins).
__device__ __forceinline__ bool argmax_better(float value, int index, float best, int best_index)
{
    bool nan = value != value, best_nan = best != best;
    if (nan != best_nan) return nan;
    if (!nan && value != best) return value > best;
    return index < best_index;
}

// Σ a[i]·b[i] over one row, shared by a warp's lanes (float4 loads for the first `vectors` quads when the
// caller found the row aligned, then a scalar tail), summed across the warp: every lane gets the dot product.
__device__ __forceinline__ float warp_row_dot(const float* a, const float* b, int width, int vectors, int lane)
{
    float dot = 0.0f;
    for (int v = lane; v < vectors; v += 32)
    {
        float4 x = reinterpret_cast<const float4*>(a)[v], y = reinterpret_cast<const float4*>(b)[v];
        dot += x.x * y.x + x.y * y.y + x.z * y.z + x.w * y.w;
    }
    for (int i = vectors * 4 + lane; i < width; i += 32)
        dot += a[i] * b[i];
    return warp_sum(dot);
}

// Combines every lane's (best, best_index) by argmax_better: afterwards every lane holds the row's argmax.
__device__ __forceinline__ void warp_argmax(float& best, int& best_index)
{
    for (int offset = 16; offset > 0; offset >>= 1)
    {
        float other = __shfl_xor_sync(0xffffffffu, best, offset);
        int other_index = __shfl_xor_sync(0xffffffffu, best_index, offset);
        if (argmax_better(other, other_index, best, best_index))
        {
            best = other;
            best_index = other_index;
        }
    }
}
