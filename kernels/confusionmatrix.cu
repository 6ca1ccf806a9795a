// Confusion-matrix accumulation (CPU reference: src/Kernels/Ops/ConfusionMatrix.cs):
//   counts[gt * C + pred] += 1 for every pixel whose ground truth gt is not the ignore label;
// a pixel is invalid when gt is neither a class in [0, C) nor the ignore label, or pred is not a class while
// gt is counted, or pred is neither a class nor the ignore label where gt is ignored (CountRange's rules).
// Integer addition is exact, so atomics give the same counts in any order. Grid-stride over pixels; with
// C * C * 4 bytes of dynamic shared memory (the launcher passes it when that fits, e.g. 21 classes) each block
// first counts into a 32-bit shared histogram and then adds its non-zero bins to the 64-bit global counts,
// which keeps the global atomics to one per bin and block; without it (150 classes: 90 KB) every pixel adds
// to the global counts directly. An invalid pixel is not counted and lowers *first_invalid (an atomicMin,
// initialised by the launcher to INT_MAX), so the host reads back the first invalid pixel and reports it
// with the CPU path's message, discarding these counts.

extern "C" __global__ void confusion_matrix(const int* __restrict__ prediction, const int* __restrict__ ground_truth,
    unsigned long long* __restrict__ counts, int* __restrict__ first_invalid, int pixels, int classes, int ignore, int shared_bins)
{
    extern __shared__ unsigned int bins[];
    int bin_count = classes * classes;
    if (shared_bins)
    {
        for (int b = threadIdx.x; b < bin_count; b += blockDim.x) bins[b] = 0u;
        __syncthreads();
    }
    int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < pixels; i += stride)
    {
        int gt = ground_truth[i], pred = prediction[i];
        if (gt == ignore)
        {
            if ((unsigned)pred >= (unsigned)classes && pred != ignore)
                atomicMin(first_invalid, i);
            continue;
        }
        // One unsigned comparison per label rejects both negative values and values >= C.
        if ((unsigned)gt >= (unsigned)classes || (unsigned)pred >= (unsigned)classes)
        {
            atomicMin(first_invalid, i);
            continue;
        }
        if (shared_bins) atomicAdd(&bins[gt * classes + pred], 1u);
        else atomicAdd(&counts[gt * classes + pred], 1ull);
    }
    if (shared_bins)
    {
        __syncthreads();
        for (int b = threadIdx.x; b < bin_count; b += blockDim.x)
            if (bins[b] != 0u) atomicAdd(&counts[b], (unsigned long long)bins[b]);
    }
}
