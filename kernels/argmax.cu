// Index of the maximum along the last dimension, as int32 (CPU reference: src/Kernels/Ops/Argmax.cs):
// ties go to the first maximum; a NaN counts as the maximum and the first NaN wins (torch.argmax on the
// CPU); -0 and +0 compare equal, so the first of them wins too.
// One warp per row, 8 rows per block (rows are 20-150 class scores of one pixel). Each lane scans its
// elements in increasing index order keeping the first best; the 32 candidates are then combined with
// shuffles by argmax_better, which orders (value, index) pairs by NaN first, then value, then the smaller
// index, so the combination is the same whatever the reduction tree. A lane with no element holds
// (-inf, INT_MAX), which loses to any real element (a -inf element ties on value and wins on index).
// Scalar loads only: a row is at most a few hundred bytes and the kernel is launch-bound.

#include "warp.cuh"

extern "C" __global__ void argmax_rows(const float* __restrict__ x, int* __restrict__ indices, int rows, int width)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float* in = x + (long long)row * width;
    float best = __int_as_float(0xff800000);
    int best_index = 0x7fffffff;
    for (int i = lane; i < width; i += 32)
    {
        float value = in[i];
        if (argmax_better(value, i, best, best_index))
        {
            best = value;
            best_index = i;
        }
    }
    warp_argmax(best, best_index);
    if (lane == 0) indices[row] = best_index;
}
