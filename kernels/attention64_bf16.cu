// The forward pass of attention for head dim 64 without a prompt prefix, with both products on the tensor cores
// (CPU reference: src/Kernels/Ops/Attention.cs with AttentionPrecision.BFloat16, which rounds q, k and v the same way).
// Same function, arguments and masks as attention_forward64 in attention64.cu; for a tower whose linears run in
// bfloat16 (compute capability 8.0 and later, kernels/mma.cuh).
// Precision: q, k and v are rounded to bfloat16; the scores are float32 sums of their products, scaled and put
// through the online softmax in float32 (base 2: the scale carries log2 e); the probabilities are rounded to bfloat16
// for the second product, whose sums are float32 again, while the softmax's denominator adds the unrounded ones. o is
// off the float32 result by at most 2⁻⁹·max|v| (half a bfloat16 step on each probability); logsumexp only by the
// float32 rounding of the scores.
// A block owns 16 query rows of one (batch, head) per warp (64 in a block of 128 threads; a whole sequence in the wide
// builds below), and walks the keys in tiles of 64. A warp keeps its
// rows' query fragments in registers for the whole walk; per tile it computes its 16 × 64 scores (32 products),
// updates the online softmax of its rows, and adds probabilities × values (32 products), the probabilities going from
// the first product's result registers into the second's operand registers without shared memory.
// Shared memory holds two stages of the key and value tiles, both [key][feature] in bfloat16 with rows of 72
// (64 + 8): the eight rows an ldmatrix phase reads then start in eight different groups of four banks. The keys'
// fragments come through ldmatrix, the values' through ldmatrix.trans (the product wants them [feature][key]).
// bfloat16 inputs reach shared memory by cp.async, bits unchanged, the next tile's copies in flight while the
// current tile is computed; float32 inputs are rounded on the way (plain loads and stores, the same bits).
// Three blocks of 128 threads per multiprocessor (12 warps), as timed on an H200, or four: at four, ptxas capped a
// thread at 128 registers and spilled until the tail's products were skipped; these and the wide blocks are all built,
// and timed against each other (the end of this file). The two stages of 18 KB each fit any of them.

#include "bfloat16.cuh"
#include "mma.cuh"
#include "warp.cuh"

#define KEYS 64
#define DIM 64
#define THREADS_BF16 128
#define THREADS_WIDE 512
#define STRIDE 72
#define MINUS_INFINITY __int_as_float(0xff800000)

// The operands are float32 (rounded here) or bfloat16 already (the output of a GEMM that stores bfloat16); either
// way the tiles hold bfloat16, so the two kinds of input give the same bits.

// Two neighbouring features of one row as a fragment register; zeros past the last row.
__device__ __forceinline__ unsigned int row_pair(const float* x, long long row_stride, int row, int count, int feature)
{
    if (row >= count) return 0u;
    float2 value = load_pair(x + row * row_stride + feature);
    return bfloat16_pair_rn(value.x, value.y);
}

__device__ __forceinline__ unsigned int row_pair(const unsigned short* x, long long row_stride, int row, int count, int feature)
{
    return row < count ? *(const unsigned int*)(x + row * row_stride + feature) : 0u;
}

// Rows first…first+63 of k or v (zeros from `count` on) into a tile [row][feature], by all the block's threads. bfloat16:
// 16-byte cp.async copies, eight consecutive threads per row (rows start on 16-byte boundaries; the launcher checks).
__device__ __forceinline__ void stage_rows(unsigned short* tile, const unsigned short* x, long long row_stride, int first, int count)
{
    for (int index = threadIdx.x; index < KEYS * DIM / 8; index += blockDim.x)
    {
        int r = index / (DIM / 8), d = index % (DIM / 8) * 8;
        bool inside = first + r < count;
        copy_async16(tile + r * STRIDE + d, x + (inside ? first + r : 0) * row_stride + d, inside);
    }
}

// float32: consecutive threads read consecutive float4 of a row, so the loads coalesce, and store them rounded.
__device__ __forceinline__ void stage_rows(unsigned short* tile, const float* x, long long row_stride, int first, int count)
{
    for (int index = threadIdx.x; index < KEYS * DIM / 4; index += blockDim.x)
    {
        int r = index / (DIM / 4), d = index % (DIM / 4) * 4;
        float4 value = first + r < count ? load_quad(x + (first + r) * row_stride + d) : make_float4(0, 0, 0, 0);
        *(uint2*)(tile + r * STRIDE + d) = make_uint2(bfloat16_pair_rn(value.x, value.y), bfloat16_pair_rn(value.z, value.w));
    }
}

// Grid (query tiles of 16 rows a warp, heads, batch): 64 rows in 128 threads, or up to 256 in the wide builds' up to 512
// threads. q, k and v rows start at 16-byte aligned addresses with row
// and batch strides of whole 16-byte vectors (4 float32 or 8 bfloat16 elements; the launcher checks, column blocks of
// a packed qkv qualify), in float32 or, from a GEMM that stores bfloat16, in bfloat16 (attention_forward64_bf16_in,
// _io). k and v share their strides (batch stride 0: keys shared by every batch). o is contiguous [B, Tq, H·64],
// float32 or, when it only feeds the bfloat16 out-projection, bfloat16 (attention_forward64_bf16_out, _io); lse
// [B, H, Tq] or null. Query i sees keys 0…query_offset+i when causal, else all key_length of them.
template <typename In, typename Out>
__device__ __forceinline__ void attention_tiles(const In* __restrict__ q, long long q_batch, long long q_row,
    const In* __restrict__ k, const In* __restrict__ v, long long kv_batch, long long kv_row, Out* __restrict__ o, float* __restrict__ lse,
    int query_length, int key_length, int heads, int causal, int query_offset, float scale)
{
    __shared__ __align__(16) unsigned short keys_tile[2][KEYS * STRIDE], values_tile[2][KEYS * STRIDE];
    // 16 query rows a warp: 64 a block of 128 threads, a whole sequence of up to 256 in one block of the wide builds.
    int rows_per_block = 16 * (blockDim.x / 32);
    int b = blockIdx.z, h = blockIdx.y, first = blockIdx.x * rows_per_block, column = h * DIM;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    // This thread's two rows: g and g + 8 of its warp's 16. In a sequence's last tile the warps past its last row
    // only help stage the tiles (the branch is the same for a whole warp, so its products and shuffles stay
    // complete).
    int warp_first = first + warp * 16, rows[2] = { warp_first + g, warp_first + g + 8 };
    bool has_rows = warp_first < query_length;
    const In* queries = q + b * q_batch + column;
    const In* keys = k + b * kv_batch + column;
    const In* vals = v + b * kv_batch + column;
    int last = min(first + rows_per_block, query_length) - 1;
    int tile_keys = causal ? min(key_length, query_offset + last + 1) : key_length;
    // Scores in base 2: exp(scale·s − m) = 2^(scale·log2(e)·s − m′).
    float scale_log2 = scale * 1.4426950408889634f;

    // The A operand of the scores: 16 rows × 64 features as four k steps of 16.
    unsigned int query_fragments[4][4];
    for (int s = 0; s < 4; s++)
    {
        query_fragments[s][0] = row_pair(queries, q_row, rows[0], query_length, 16 * s + 2 * t);
        query_fragments[s][1] = row_pair(queries, q_row, rows[1], query_length, 16 * s + 2 * t);
        query_fragments[s][2] = row_pair(queries, q_row, rows[0], query_length, 16 * s + 8 + 2 * t);
        query_fragments[s][3] = row_pair(queries, q_row, rows[1], query_length, 16 * s + 8 + 2 * t);
    }
    // Per row (index 0: row g, 1: row g + 8): its visible keys, running max (base 2), this thread's part of the
    // running sum.
    int visible[2];
    float running_max[2], running_sum[2], accumulator[8][4];
    for (int r = 0; r < 2; r++)
    {
        visible[r] = rows[r] < query_length ? (causal ? min(key_length, query_offset + rows[r] + 1) : key_length) : 0;
        running_max[r] = MINUS_INFINITY;
        running_sum[r] = 0.0f;
    }
    for (int n = 0; n < 8; n++)
        for (int e = 0; e < 4; e++) accumulator[n][e] = 0.0f;

    // The row each lane names for ldmatrix: matrix i = lane / 8, row j = lane % 8. Keys (plain): key 8n + j, features
    // 16s + 8i for the scores' k steps s and s + 1 (i = 0…3). Values (.trans): key 16s + 8(i % 2) + j, features
    // 8(n + i / 2) for the output's columns n and n + 1.
    int matrix = lane / 8, j = lane % 8;
    int key_lane = j * STRIDE + 8 * matrix, value_lane = (8 * (matrix % 2) + j) * STRIDE + 8 * (matrix / 2);

    int tiles = (tile_keys + KEYS - 1) / KEYS;
    if (tiles > 0)
    {
        stage_rows(keys_tile[0], keys, kv_row, 0, tile_keys);
        stage_rows(values_tile[0], vals, kv_row, 0, tile_keys);
        copy_async_commit();
    }
    for (int tile = 0; tile < tiles; tile++)
    {
        int stage = tile % 2, first_key = tile * KEYS;
        // The next tile's copies go out before this one's are awaited; the barrier at the end of the previous tile
        // freed their stage.
        if (tile + 1 < tiles)
        {
            stage_rows(keys_tile[1 - stage], keys, kv_row, first_key + KEYS, tile_keys);
            stage_rows(values_tile[1 - stage], vals, kv_row, first_key + KEYS, tile_keys);
            copy_async_commit();
            copy_async_wait<1>();
        }
        else
            copy_async_wait<0>();
        __syncthreads();

        if (has_rows)
        {
            // Keys of this tile that any row of the block sees: the products past them are skipped (a sequence of 197
            // keys leaves 5 in its last tile of 64), and only these keys were staged (zeros after them). Their scores
            // are masked to −∞ below, so their probabilities are 0 and the products they skip would add nothing: the
            // same sums, bit for bit, for finite inputs (a NaN or ∞ in an unseen value no longer reaches the output).
            int tile_valid = min(KEYS, tile_keys - first_key);
            // Scores: eight 16 × 8 products over keys 8n…8n+7, each of four k steps. Element e of scores[n] is row
            // e / 2 (g or g + 8), key first_key + 8n + 2t + e % 2.
            float scores[8][4];
            for (int n = 0; n < 8; n++)
            {
                for (int e = 0; e < 4; e++) scores[n][e] = 0.0f;
                if (8 * n >= tile_valid) continue;
                for (int s = 0; s < 4; s += 2)
                {
                    unsigned int fragments[4];
                    ldmatrix_x4(fragments, keys_tile[stage] + 8 * n * STRIDE + 16 * s + key_lane);
                    mma_bf16_16816(scores[n], query_fragments[s], fragments);
                    mma_bf16_16816(scores[n], query_fragments[s + 1], fragments + 2);
                }
            }

            for (int r = 0; r < 2; r++)
            {
                // Keys 8n + 2t + e % 2 of this tile that row r sees: those below `room`.
                int room = visible[r] - first_key - 2 * t;
                float tile_max = MINUS_INFINITY;
                for (int n = 0; n < 8; n++)
                    for (int e = 2 * r; e < 2 * r + 2; e++)
                    {
                        scores[n][e] = 8 * n + e % 2 < room ? scores[n][e] * scale_log2 : MINUS_INFINITY;
                        tile_max = fmaxf(tile_max, scores[n][e]);
                    }
                // The four threads of a row (t = 0…3) hold its 64 scores between them.
                float new_max = fmaxf(running_max[r], lanes_max(tile_max, 4));
                // A row with no visible key yet keeps max −inf: nothing to rescale, and every exponential is 0.
                float correction = new_max == MINUS_INFINITY ? 1.0f : exp2f(running_max[r] - new_max), sum = 0.0f;
                for (int n = 0; n < 8; n++)
                    for (int e = 2 * r; e < 2 * r + 2; e++)
                    {
                        scores[n][e] = scores[n][e] == MINUS_INFINITY ? 0.0f : exp2f(scores[n][e] - new_max);
                        sum += scores[n][e];
                    }
                running_sum[r] = running_sum[r] * correction + sum;
                running_max[r] = new_max;
                for (int n = 0; n < 8; n++)
                    for (int e = 2 * r; e < 2 * r + 2; e++) accumulator[n][e] *= correction;
            }

            // Output += probabilities × values: k step s covers keys 16s…16s+15, whose probabilities are scores[2s]
            // and scores[2s + 1] in exactly the A layout; output features 8n…8n+7 per product.
            for (int s = 0; s < 4; s++)
            {
                if (16 * s >= tile_valid) break;
                unsigned int probabilities[4] = { bfloat16_pair_rn(scores[2 * s][0], scores[2 * s][1]),
                    bfloat16_pair_rn(scores[2 * s][2], scores[2 * s][3]), bfloat16_pair_rn(scores[2 * s + 1][0], scores[2 * s + 1][1]),
                    bfloat16_pair_rn(scores[2 * s + 1][2], scores[2 * s + 1][3]) };
                for (int n = 0; n < 8; n += 2)
                {
                    unsigned int fragments[4];
                    ldmatrix_x4_trans(fragments, values_tile[stage] + 16 * s * STRIDE + 8 * n + value_lane);
                    mma_bf16_16816(accumulator[n], probabilities, fragments);
                    mma_bf16_16816(accumulator[n + 1], probabilities, fragments + 2);
                }
            }
        }
        // Every warp is done with this stage before the next tile's copies refill it.
        __syncthreads();
    }

    if (!has_rows) return;
    for (int r = 0; r < 2; r++)
    {
        float sum = lanes_sum(running_sum[r], 4);
        if (rows[r] >= query_length) continue;
        Out* out = o + ((long long)b * query_length + rows[r]) * heads * DIM + column + 2 * t;
        for (int n = 0; n < 8; n++)
            store_pair(out + 8 * n, accumulator[n][2 * r] / sum, accumulator[n][2 * r + 1] / sum);
        // The natural logarithm of the sum of exponentials: the base-2 maximum times ln 2, plus log of the rest.
        if (lse && t == 0) lse[((long long)b * heads + h) * query_length + rows[r]] = running_max[r] * 0.6931471805599453f + logf(sum);
    }
}

// One kernel of the set: q, k and v of type IN, o of type OUT.
#define ATTENTION_KERNEL(NAME, THREADS, BLOCKS, IN, OUT)                                                                  \
    extern "C" __global__ void __launch_bounds__(THREADS, BLOCKS) NAME(                                                   \
        const IN* __restrict__ q, long long q_batch, long long q_row, const IN* __restrict__ k,                           \
        const IN* __restrict__ v, long long kv_batch, long long kv_row, OUT* __restrict__ o, float* __restrict__ lse,     \
        int query_length, int key_length, int heads, int causal, int query_offset, float scale)                           \
    {                                                                                                                     \
        attention_tiles(q, q_batch, q_row, k, v, kv_batch, kv_row, o, lse, query_length, key_length, heads, causal,       \
            query_offset, scale);                                                                                         \
    }

// The four kernels (float32 or bfloat16 q, k and v; float32 or bfloat16 o) built for blocks of up to THREADS threads,
// BLOCKS of them per multiprocessor, their names ending in SUFFIX. Blocks of 128 threads (64 query rows) at three a
// multiprocessor, without a suffix, as timed on an H200; at four (_4), which fits ptxas's 128 registers a thread since
// the tail's products are skipped; and blocks of up to 512 threads, one a multiprocessor (_wide), so that one block
// holds a whole sequence of up to 256 queries (a ViT-B/16 image's 197 in 13 warps) and stages its keys and values once
// instead of once for every 64 queries. The launcher times them at a shape's first launch and keeps the fastest
// (src/Kernels/Cuda/LaunchVariants.cs): every warp does the same arithmetic in the same order whatever its block, so
// they give the same bits.
#define ATTENTION_KERNELS(THREADS, BLOCKS, SUFFIX)                                                                        \
    ATTENTION_KERNEL(attention_forward64_bf16##SUFFIX, THREADS, BLOCKS, float, float)                                     \
    ATTENTION_KERNEL(attention_forward64_bf16_out##SUFFIX, THREADS, BLOCKS, float, unsigned short)                        \
    ATTENTION_KERNEL(attention_forward64_bf16_in##SUFFIX, THREADS, BLOCKS, unsigned short, float)                         \
    ATTENTION_KERNEL(attention_forward64_bf16_io##SUFFIX, THREADS, BLOCKS, unsigned short, unsigned short)

ATTENTION_KERNELS(THREADS_BF16, 3, )
ATTENTION_KERNELS(THREADS_BF16, 4, _4)
ATTENTION_KERNELS(THREADS_WIDE, 1, _wide)
