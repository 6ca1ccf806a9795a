// The ReCLIP++ loss's non-GEMM parts (CPU reference: src/Kernels/Ops/MaskedPoolingLoss.cs); the launcher pools and
// projects on cuBLAS between them: pooled = (1/N)·columnsᵀ·F, logits = logitScale·pooled·Tᵀ, and back.
//   gather_columns:  columns[n, s] = mask[n, classes[s]], the |S| hypothesis columns of the mask
//   softmax_loss:    per hypothesis row s (one warp): the logits become softmax probabilities in place, and
//                    losses[s] = max + log Σ exp(z − max) − z[classes[s]] (the stable −log softmax of the target)
//   logit_gradient:  dz = P − onehot(classes[s]); the scale gradLoss/|S| is folded into the next GEMM's alpha
//   scatter_columns: dmask[n, c] = d_columns[n, slot[c]] for the hypothesis classes (slot[c] ≥ 0), 0 elsewhere
// The batch_ kernels run a whole batch at once (MaskedPoolingLossBatch.Cuda.cs): every image pools all C columns of its
// mask, and members[b·C + c] (1 when c is in image b's hypothesis) says which rows count. Rows outside a hypothesis get a
// zero logit gradient, so their pooled gradient and their mask column come out exactly 0 without a scatter; the launch
// count no longer grows with the batch, and the shapes no longer depend on the hypotheses.
//   batch_softmax_loss:     softmax in place on every row r = b·C + c; losses[r] = −log softmax(z_r)[c] for members, else 0
//   batch_total:            per image in order: |S_b|, the mean of its member losses rounded to float, added to the double
//                           total; scales[b] = gradLoss / |S_b| (0 for an empty hypothesis)
//   batch_logit_gradient:   dz_r = scales[b]·(P_r − onehot(c)) for member rows, 0 elsewhere

#include "warp.cuh"

extern "C" __global__ void pooling_gather_columns(const float* __restrict__ mask, const int* __restrict__ classes, float* __restrict__ columns,
    int patches, int class_count, int count)
{
    long long total = (long long)patches * count;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x)
        columns[e] = mask[e / count * class_count + classes[e % count]];
}

// A warp's row z of class_count logits becomes its softmax in place; returns −log softmax(z)[target_index] (the stable
// form max + log Σ exp(z − max) − z[target]), the same on every lane.
__device__ __forceinline__ float softmax_row_loss(float* z, int class_count, int target_index, int lane)
{
    float high = __int_as_float(0xff800000);
    for (int i = lane; i < class_count; i += 32) high = fmaxf(high, z[i]);
    high = warp_max(high);
    // The lane that owns the target's logit keeps it before overwriting it with its exponential; the other lanes
    // must not read it from memory, as they may run ahead of that lane.
    float target = __int_as_float(0xff800000), sum = 0.0f;
    for (int i = lane; i < class_count; i += 32)
    {
        if (i == target_index) target = z[i];
        float e = expf(z[i] - high);
        z[i] = e;
        sum += e;
    }
    target = warp_max(target);
    sum = warp_sum(sum);
    float inverse = 1.0f / sum;
    for (int i = lane; i < class_count; i += 32) z[i] *= inverse;
    return (float)((double)high + log((double)sum) - target);
}

// One warp per row, 8 rows per block.
extern "C" __global__ void pooling_softmax_loss(float* __restrict__ logits, const int* __restrict__ classes, float* __restrict__ losses,
    int count, int class_count)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= count) return;
    float loss = softmax_row_loss(logits + (long long)row * class_count, class_count, classes[row], lane);
    if (lane == 0) losses[row] = loss;
}

extern "C" __global__ void pooling_logit_gradient(const float* __restrict__ probabilities, const int* __restrict__ classes, float* __restrict__ d_logits,
    int count, int class_count)
{
    long long total = (long long)count * class_count;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x)
    {
        int s = (int)(e / class_count), c = (int)(e % class_count);
        d_logits[e] = probabilities[e] - (c == classes[s] ? 1.0f : 0.0f);
    }
}

extern "C" __global__ void pooling_scatter_columns(const float* __restrict__ d_columns, const int* __restrict__ slot, float* __restrict__ d_mask,
    int patches, int class_count, int count)
{
    long long total = (long long)patches * class_count;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x)
    {
        int s = slot[e % class_count];
        d_mask[e] = s >= 0 ? d_columns[e / class_count * count + s] : 0.0f;
    }
}

// One warp per row r = b·C + c of the [B·C, C] logits, 8 rows per block; row r's target is its own class c.
extern "C" __global__ void pooling_batch_softmax_loss(float* __restrict__ logits, const int* __restrict__ members, float* __restrict__ losses,
    int rows, int class_count)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= rows) return;
    float loss = softmax_row_loss(logits + (long long)row * class_count, class_count, row % class_count, lane);
    if (lane == 0) losses[row] = members[row] ? loss : 0.0f;
}

// One thread: the images in order, as the CPU adds them (each image's member losses in class order, in double).
extern "C" __global__ void pooling_batch_total(const float* __restrict__ losses, const int* __restrict__ members, int batch, int class_count,
    float grad_loss, float* __restrict__ scales, double* __restrict__ total)
{
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double running = *total;
    for (int b = 0; b < batch; b++)
    {
        int count = 0;
        double sum = 0.0;
        for (int c = 0; c < class_count; c++)
            if (members[b * class_count + c])
            {
                count++;
                sum += losses[b * class_count + c];
            }
        if (count > 0) running += (double)(float)(sum / count);
        scales[b] = count > 0 ? grad_loss / count : 0.0f;
    }
    *total = running;
}

extern "C" __global__ void pooling_batch_logit_gradient(const float* __restrict__ probabilities, const int* __restrict__ members,
    const float* __restrict__ scales, float* __restrict__ d_logits, int batch, int class_count)
{
    long long total = (long long)batch * class_count * class_count;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x)
    {
        long long row = e / class_count;
        int column = (int)(e % class_count), c = (int)(row % class_count), b = (int)(row / class_count);
        d_logits[e] = members[row] ? scales[b] * (probabilities[e] - (column == c ? 1.0f : 0.0f)) : 0.0f;
    }
}
