// The forward pass of attention for head dim 64 without a prompt prefix (CPU reference: src/Kernels/Ops/Attention.cs):
// every image-tower layer and the text tower. Same function as attention_forward in attention.cu (o and lse, the same
// masks), computed in register tiles instead of one dot product per score.
// A block owns 64 query rows of one (batch, head) and walks the keys in tiles of 64. Its 128 threads form a 8 × 16
// grid: thread (ty, tx) holds the scores of rows 8·ty…8·ty+7 against keys 4·tx…4·tx+3, and later the output of
// those rows in features 4·tx…4·tx+3. Each step of either product reads two float4 of one operand and one of the
// other from shared memory for 32 multiply-adds, where a dot product per score reads two floats for one; the general
// kernel is bound by those shared-memory reads.
// Shared memory holds qᵀ and kᵀ (feature-major, so a thread's 8 rows or 4 keys are contiguous) and v (key-major),
// 16 KB each: the 48 KB a block may have statically. The probabilities pᵀ (key-major) reuse kᵀ's space once the
// scores are done. The transposed tiles are written one float at a time: their 4-float groups are swizzled (XOR with
// bits of the feature or key index) so that those writes, and the float4 writes of pᵀ, spread over the banks.

#include "warp.cuh"

#define ROWS 64
#define DIM 64
#define GRID_X 16
#define THREADS_64 128
#define ROWS_PER_THREAD 8
#define MINUS_INFINITY __int_as_float(0xff800000)

// Offset of element (major, minor) of a 64 × 64 tile whose 4-float groups along minor are XORed with bits 2…4 of major.
__device__ __forceinline__ int swizzled(int major, int minor)
{
    return major * 64 + (minor ^ (((major >> 2) & 7) << 2));
}

// Rows first…first+63 of an operand (zeros from `count` on), as the transposed tile [feature][row], times `scale`.
// Consecutive threads read consecutive float4 of a row, so the loads coalesce.
__device__ __forceinline__ void load_transposed(float* tile, const float* x, long long row_stride, int first, int count, float scale)
{
    for (int index = threadIdx.x; index < ROWS * DIM / 4; index += THREADS_64)
    {
        int r = index / (DIM / 4), d = index % (DIM / 4) * 4;
        float4 value = first + r < count ? *(const float4*)(x + (first + r) * row_stride + d) : make_float4(0, 0, 0, 0);
        tile[swizzled(d, r)] = value.x * scale;
        tile[swizzled(d + 1, r)] = value.y * scale;
        tile[swizzled(d + 2, r)] = value.z * scale;
        tile[swizzled(d + 3, r)] = value.w * scale;
    }
}

// Rows first…first+63 of an operand (zeros from `count` on), as they are: [row][feature].
__device__ __forceinline__ void load_rows64(float* tile, const float* x, long long row_stride, int first, int count)
{
    for (int index = threadIdx.x; index < ROWS * DIM / 4; index += THREADS_64)
    {
        int r = index / (DIM / 4), d = index % (DIM / 4) * 4;
        *(float4*)(tile + r * DIM + d) = first + r < count ? *(const float4*)(x + (first + r) * row_stride + d) : make_float4(0, 0, 0, 0);
    }
}

// Grid (query tiles of 64, heads, batch), 128 threads. q, k and v rows start at 16-byte aligned addresses with row
// strides that are multiples of 4 (the launcher checks; column blocks of a packed qkv qualify). k and v share their
// strides (batch stride 0: keys shared by every batch). o is contiguous [B, Tq, H·64]; lse [B, H, Tq] or null.
// Query i sees keys 0…query_offset+i when causal, else all key_length of them.
extern "C" __global__ void __launch_bounds__(THREADS_64, 4) attention_forward64(const float* __restrict__ q, long long q_batch, long long q_row,
    const float* __restrict__ k, const float* __restrict__ v, long long kv_batch, long long kv_row, float* __restrict__ o, float* __restrict__ lse,
    int query_length, int key_length, int heads, int causal, int query_offset, float scale)
{
    __shared__ __align__(16) float queries_t[ROWS * DIM], keys_t[ROWS * DIM], values[ROWS * DIM];
    float* probabilities_t = keys_t;
    int b = blockIdx.z, h = blockIdx.y, first = blockIdx.x * ROWS, column = h * DIM;
    int ty = threadIdx.x / GRID_X, tx = threadIdx.x % GRID_X, row0 = ty * ROWS_PER_THREAD;
    // A warp holds 16 query rows. In a sequence's last tile (e.g. 197 = 3·64 + 5 image tokens) the warps past its
    // last row skip the arithmetic and only help load the shared tiles, so the multiprocessor runs other blocks'
    // warps meanwhile: the tail costs about its share of rows instead of a whole tile. The branch is the same for
    // the whole warp, so its shuffles stay complete.
    bool has_rows = first + (threadIdx.x / 32) * 2 * ROWS_PER_THREAD < query_length;
    const float* keys = k + b * kv_batch + column;
    const float* vals = v + b * kv_batch + column;
    int last = min(first + ROWS, query_length) - 1;
    int tile_keys = causal ? min(key_length, query_offset + last + 1) : key_length;

    load_transposed(queries_t, q + b * q_batch + column, q_row, first, query_length, scale);
    float running_max[ROWS_PER_THREAD], running_sum[ROWS_PER_THREAD], accumulator[ROWS_PER_THREAD][4];
    int visible[ROWS_PER_THREAD];
    for (int r = 0; r < ROWS_PER_THREAD; r++)
    {
        int i = first + row0 + r;
        visible[r] = i < query_length ? (causal ? min(key_length, query_offset + i + 1) : key_length) : 0;
        running_max[r] = MINUS_INFINITY;
        running_sum[r] = 0.0f;
        for (int c = 0; c < 4; c++) accumulator[r][c] = 0.0f;
    }
    for (int first_key = 0; first_key < tile_keys; first_key += ROWS)
    {
        __syncthreads();
        load_transposed(keys_t, keys, kv_row, first_key, key_length, 1.0f);
        load_rows64(values, vals, kv_row, first_key, key_length);
        __syncthreads();

        float scores[ROWS_PER_THREAD][4];
        for (int r = 0; r < ROWS_PER_THREAD; r++)
            for (int c = 0; c < 4; c++) scores[r][c] = 0.0f;
        for (int d = 0; d < (has_rows ? DIM : 0); d++)
        {
            float4 q0 = *(const float4*)(queries_t + swizzled(d, row0)), q1 = *(const float4*)(queries_t + swizzled(d, row0 + 4));
            float4 kk = *(const float4*)(keys_t + swizzled(d, 4 * tx));
            float qs[ROWS_PER_THREAD] = { q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w }, ks[4] = { kk.x, kk.y, kk.z, kk.w };
            for (int r = 0; r < ROWS_PER_THREAD; r++)
                for (int c = 0; c < 4; c++) scores[r][c] += qs[r] * ks[c];
        }

        for (int r = 0; r < (has_rows ? ROWS_PER_THREAD : 0); r++)
        {
            float tile_max = MINUS_INFINITY;
            for (int c = 0; c < 4; c++)
            {
                if (first_key + 4 * tx + c >= visible[r]) scores[r][c] = MINUS_INFINITY;
                tile_max = fmaxf(tile_max, scores[r][c]);
            }
            float new_max = fmaxf(running_max[r], lanes_max(tile_max, GRID_X));
            // A row with no visible key yet keeps max −inf: nothing to rescale, and every exponential is 0.
            float correction = new_max == MINUS_INFINITY ? 1.0f : expf(running_max[r] - new_max), sum = 0.0f;
            for (int c = 0; c < 4; c++)
            {
                scores[r][c] = scores[r][c] == MINUS_INFINITY ? 0.0f : expf(scores[r][c] - new_max);
                sum += scores[r][c];
            }
            running_sum[r] = running_sum[r] * correction + sum;
            running_max[r] = new_max;
            for (int c = 0; c < 4; c++) accumulator[r][c] *= correction;
        }
        __syncthreads();
        for (int c = 0; c < 4; c++)
        {
            int key = 4 * tx + c;
            *(float4*)(probabilities_t + swizzled(key, row0)) = make_float4(scores[0][c], scores[1][c], scores[2][c], scores[3][c]);
            *(float4*)(probabilities_t + swizzled(key, row0 + 4)) = make_float4(scores[4][c], scores[5][c], scores[6][c], scores[7][c]);
        }
        __syncthreads();

        int count = has_rows ? min(ROWS, key_length - first_key) : 0;
        for (int key = 0; key < count; key++)
        {
            float4 p0 = *(const float4*)(probabilities_t + swizzled(key, row0)), p1 = *(const float4*)(probabilities_t + swizzled(key, row0 + 4));
            float4 vv = *(const float4*)(values + key * DIM + 4 * tx);
            float ps[ROWS_PER_THREAD] = { p0.x, p0.y, p0.z, p0.w, p1.x, p1.y, p1.z, p1.w }, vs[4] = { vv.x, vv.y, vv.z, vv.w };
            for (int r = 0; r < ROWS_PER_THREAD; r++)
                for (int c = 0; c < 4; c++) accumulator[r][c] += ps[r] * vs[c];
        }
    }

    for (int r = 0; r < ROWS_PER_THREAD; r++)
    {
        int i = first + row0 + r;
        float sum = lanes_sum(running_sum[r], GRID_X);
        if (i >= query_length) continue;
        *(float4*)(o + ((long long)b * query_length + i) * heads * DIM + column + 4 * tx) =
            make_float4(accumulator[r][0] / sum, accumulator[r][1] / sum, accumulator[r][2] / sum, accumulator[r][3] / sum);
        if (lse && tx == 0) lse[((long long)b * heads + h) * query_length + i] = running_max[r] + logf(sum);
    }
}
