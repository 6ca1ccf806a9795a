// Rectified logits (CPU reference: src/Kernels/Ops/Rectify.cs), spec §5-6:
//   forward:  rect[b, n, c] = q[b, n, c] - bias[n, c], bias = P [N, E] . R [C, E]^T
//   backward: G = sum over b of dRect[b] ([N, C]); dP = -G . R ([N, E]); dR = -G^T . P ([C, E])
// The sizes are small (N <= 1024, C <= 171, E = 512), so the GEMMs are plain 16x16 shared-memory tiles with fp32
// accumulation rather than cuBLAS calls: each thread owns one output element, the block stages a 16x16 tile of each
// operand per k step (rows padded to 17 floats so that the transposed read is free of bank conflicts).
// Forward fuses the subtraction into the GEMM's store: the thread that computed bias[n, c] subtracts it
// from q for every image, so the bias is never written to memory. Backward first sums dRect over the batch
// into G (rectify_batch_sum, a separate kernel in batch order: deterministic, no atomics) and then runs the
// one tiled kernel rectify_gemm_negated twice: A (M x K) is G read with strides (C, 1) for dP or (1, C) for
// dR (G transposed, without a copy), and B (K x E) is R or P, row-major.
//
// Where the head's fusion stops, and why (the head's step: rectify, the 5x5 decoder conv, BatchNorm, Gumbel-softmax):
// - Bias and subtraction are one kernel: the bias is a per-patch dot product that nothing else reads.
// - The decoder conv is the next boundary. Every output needs the 5x5 neighbourhood of all E + C input channels
//   ([F ; Rect], 532 for VOC), so it runs as im2col and a cuBLAS GEMM (kernels/conv.cu). Producing Rect inside that
//   gather would compute each rectified logit 25 times over, and F, 96 % of the channels, does not come from here.
// - BatchNorm in training normalises with statistics over every image and patch of the batch (and over the ranks of a
//   data-parallel run), a reduction over the whole grid between the conv and the normalisation: kernels/batchnorm.cu.
// - At evaluation BatchNorm is a per-channel affine pass over O ([1, C, h, w]: 20 x 441 values for VOC at 336 px). Folding it
//   into the conv would rewrite its C·(E + C)·25 weights whenever the head changes, to save that one small pass; it stays
//   a pass.
// - Gumbel-softmax needs each patch's whole row of C normalised logits, after the batch statistics: its own kernel, one
//   warp per patch, the Philox noise drawn in it (kernels/gumbel_softmax.cu).

#define RECTIFY_TILE 16

extern "C" __global__ void rectify_forward(const float* __restrict__ q, const float* __restrict__ p, const float* __restrict__ r,
    float* __restrict__ rect, int batch, int patches, int classes, int width)
{
    __shared__ float p_tile[RECTIFY_TILE][RECTIFY_TILE + 1];
    __shared__ float r_tile[RECTIFY_TILE][RECTIFY_TILE + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int n0 = blockIdx.y * RECTIFY_TILE, c0 = blockIdx.x * RECTIFY_TILE;
    float bias = 0.0f;
    for (int k0 = 0; k0 < width; k0 += RECTIFY_TILE)
    {
        // Row ty of each tile, columns k0 + tx: consecutive threads read consecutive floats of one row.
        int k = k0 + tx;
        p_tile[ty][tx] = (n0 + ty < patches && k < width) ? p[(long long)(n0 + ty) * width + k] : 0.0f;
        r_tile[ty][tx] = (c0 + ty < classes && k < width) ? r[(long long)(c0 + ty) * width + k] : 0.0f;
        __syncthreads();
        for (int j = 0; j < RECTIFY_TILE; j++)
            bias += p_tile[ty][j] * r_tile[tx][j];
        __syncthreads();
    }
    int n = n0 + ty, c = c0 + tx;
    if (n >= patches || c >= classes) return;
    long long plane = (long long)patches * classes;
    long long at = (long long)n * classes + c;
    for (int b = 0; b < batch; b++)
        rect[b * plane + at] = q[b * plane + at] - bias;
}

// G[i] = sum over b of d_rect[b * plane + i], in batch order.
extern "C" __global__ void rectify_batch_sum(const float* __restrict__ d_rect, float* __restrict__ summed, int batch, long long plane)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= plane) return;
    float sum = 0.0f;
    for (int b = 0; b < batch; b++)
        sum += d_rect[b * plane + i];
    summed[i] = sum;
}

// out[m, e] = -(sum over k of A(m, k) * B[k, e]) with A(m, k) = a[m * a_row + k * a_k]; B: [K, E] row-major; out: [M, E].
extern "C" __global__ void rectify_gemm_negated(const float* __restrict__ a, long long a_row, long long a_k, const float* __restrict__ b,
    float* __restrict__ out, int m_count, int k_count, int width)
{
    __shared__ float a_tile[RECTIFY_TILE][RECTIFY_TILE + 1];
    __shared__ float b_tile[RECTIFY_TILE][RECTIFY_TILE + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int m0 = blockIdx.y * RECTIFY_TILE, e0 = blockIdx.x * RECTIFY_TILE;
    float sum = 0.0f;
    for (int k0 = 0; k0 < k_count; k0 += RECTIFY_TILE)
    {
        // a_tile[row m][col k]; b_tile[row k][col e], read along e (coalesced).
        a_tile[ty][tx] = (m0 + ty < m_count && k0 + tx < k_count) ? a[(m0 + ty) * a_row + (long long)(k0 + tx) * a_k] : 0.0f;
        b_tile[ty][tx] = (k0 + ty < k_count && e0 + tx < width) ? b[(long long)(k0 + ty) * width + e0 + tx] : 0.0f;
        __syncthreads();
        for (int j = 0; j < RECTIFY_TILE; j++)
            sum += a_tile[ty][j] * b_tile[j][tx];
        __syncthreads();
    }
    int m = m0 + ty, e = e0 + tx;
    if (m < m_count && e < width)
        out[(long long)m * width + e] = 0.0f - sum;
}
