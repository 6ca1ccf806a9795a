// A sum over the threads of a block in double, shared by the per-channel reductions (conv bias gradient, BatchNorm):
// a tree over shared memory, so the order of the additions is fixed (deterministic from run to run).
#pragma once

// Σ of one double per thread over the block; every thread gets the total. scratch holds blockDim.x doubles (a power of
// two); the caller syncs before reusing it.
__device__ __forceinline__ double block_sum(double value, double* scratch)
{
    scratch[threadIdx.x] = value;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half >>= 1)
    {
        if (threadIdx.x < half) scratch[threadIdx.x] += scratch[threadIdx.x + half];
        __syncthreads();
    }
    return scratch[0];
}
