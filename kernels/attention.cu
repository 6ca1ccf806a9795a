// Fused multi-head attention (CPU references: src/Kernels/Ops/Attention.cs, AttentionBackward.cs, AttentionAfterPrefix.cs).
//   forward:  per batch b, head h and query i: o = softmax(scale·q·kᵀ + mask)·v over the keys i sees, and
//             lse = log Σ exp(scale·q·kᵀ) (the row statistic the backward pass recomputes the probabilities from)
//   backward: P = exp(scale·q·kᵀ − lse), dP = dO·vᵀ, D = Σ_j P·dP (per query row), dS = P·(dP − D);
//             dq = scale·dS·k, dk = scale·dSᵀ·q, dv = Pᵀ·dO
// A batch's keys are one sequence: `prefix_length` shared rows (the prompt prefix of spec §2.2/§14, or none)
// followed by its own `key_length` rows (shared by every batch when their batch stride is 0). Query i sits at
// position prefix_length + query_offset + i of it; with the causal mask it sees the keys up to there.
// Fusion: the scores of a 32×32 tile live in shared memory only, with the softmax kept online (running max and
// sum per row) as in FlashAttention, so no T×T matrix reaches global memory. The backward pass is two kernels:
// one per block of query rows (D, then dq), one per block of key rows (dk and dv), each recomputing the tile's
// probabilities. Sums over shared keys (a prompt prefix, keys shared by the batch) are split among a fixed number of
// blocks that each walk their query batches in order, then added in a fixed order: deterministic.
// 256 threads per block: 8 per query (or key) row, each owning 4 of the tile's 32 columns of scores and 8 of
// the row's ≤ 64 features. Shared rows are padded to 65 floats, so the 8 threads of a group reading 8 rows'
// same feature hit 8 different banks. Head dims up to 64: CLIP's are all 64 (width/64 heads).

#include "warp.cuh"

#define TILE 32
#define MAX_HEAD_DIM 64
#define STRIDE (MAX_HEAD_DIM + 1)
#define ROW_THREADS 8
#define THREADS (TILE * ROW_THREADS)
#define FEATURES_PER_THREAD (MAX_HEAD_DIM / ROW_THREADS)
#define SCORES_PER_THREAD (TILE / ROW_THREADS)
#define MINUS_INFINITY __int_as_float(0xff800000)

// Token rows of one operand: element (b, t, column) at data + b·batch + t·row + column (strided views of qkv).
struct Rows
{
    const float* data;
    long long batch, row;
};

__device__ __forceinline__ const float* row_at(Rows x, int b, int t, int column)
{
    return x.data + b * x.batch + t * x.row + column;
}

// The key (or value) sequence of a batch: prefix rows first, then the batch's own.
struct Sequence
{
    Rows own, prefix;
    int prefix_length;
};

__device__ __forceinline__ const float* sequence_at(Sequence s, int b, int j, int column)
{
    return j < s.prefix_length ? row_at(s.prefix, 0, j, column) : row_at(s.own, b, j - s.prefix_length, column);
}

// Copies rows first..first+TILE of a sequence (zeros from `count` on) of head features into a shared tile, times
// `scale`; threads stride over features so loads coalesce. A plain operand is a sequence without a prefix.
__device__ __forceinline__ void load_rows(float (*tile)[STRIDE], Sequence s, int b, int first, int count, int column, int head_dim, float scale)
{
    for (int index = threadIdx.x; index < TILE * head_dim; index += THREADS)
    {
        int r = index / head_dim, d = index % head_dim;
        tile[r][d] = first + r < count ? sequence_at(s, b, first + r, column)[d] * scale : 0.0f;
    }
}

__device__ __forceinline__ Sequence plain(Rows x)
{
    return Sequence { x, x, 0 };
}

__device__ __forceinline__ float dot_rows(const float* a, const float* b, int head_dim)
{
    float dot = 0.0f;
    for (int d = 0; d < head_dim; d++)
        dot += a[d] * b[d];
    return dot;
}

// accumulator[e] += Σ_c weights[c] · rows[c][part + 8e]: one row of a score tile times a tile of key or value rows,
// over the features this thread owns.
__device__ __forceinline__ void accumulate_rows(float* accumulator, const float* weights, const float (*rows)[STRIDE], int part, int head_dim)
{
    for (int c = 0; c < TILE; c++)
    {
        float weight = weights[c];
        for (int e = 0; e < FEATURES_PER_THREAD; e++)
        {
            int d = part + ROW_THREADS * e;
            if (d < head_dim) accumulator[e] += weight * rows[c][d];
        }
    }
}

// How many keys of the sequence query i sees.
__device__ __forceinline__ int visible_keys(int i, int prefix_length, int key_length, int causal, int query_offset)
{
    return causal ? prefix_length + query_offset + i + 1 : prefix_length + key_length;
}

// What the kernels over a tile of query rows derive from their launch: the key and value sequences of the batch, their
// length, how many keys the thread's query row sees (0 past the last row) and how many the tile's last row sees.
struct QueryTile
{
    Sequence keys, values;
    int total, visible, tile_keys;
};

__device__ __forceinline__ QueryTile query_tile(const float* k, const float* v, long long kv_batch, long long kv_row,
    const float* prefix_k, const float* prefix_v, long long prefix_row, int prefix_length, int first, int i, int query_length,
    int key_length, int causal, int query_offset)
{
    QueryTile tile;
    tile.keys = { { k, kv_batch, kv_row }, { prefix_k, 0, prefix_row }, prefix_length };
    tile.values = { { v, kv_batch, kv_row }, { prefix_v, 0, prefix_row }, prefix_length };
    tile.total = prefix_length + key_length;
    tile.visible = i < query_length ? visible_keys(i, prefix_length, key_length, causal, query_offset) : 0;
    int last = min(first + TILE, query_length) - 1;
    tile.tile_keys = min(tile.total, visible_keys(last, prefix_length, key_length, causal, query_offset));
    return tile;
}

// Grid (query tiles, heads, batch). o is contiguous [B, Tq, H·Dh]; lse [B, H, Tq] or null.
extern "C" __global__ void attention_forward(const float* __restrict__ q, long long q_batch, long long q_row,
    const float* __restrict__ k, const float* __restrict__ v, long long kv_batch, long long kv_row,
    const float* __restrict__ prefix_k, const float* __restrict__ prefix_v, long long prefix_row, int prefix_length,
    float* __restrict__ o, float* __restrict__ lse, int query_length, int key_length, int heads, int head_dim,
    int causal, int query_offset, float scale)
{
    __shared__ float queries[TILE][STRIDE], keys[TILE][STRIDE], values[TILE][STRIDE], probabilities[TILE][TILE + 1];
    int b = blockIdx.z, h = blockIdx.y, first = blockIdx.x * TILE, column = h * head_dim;
    int r = threadIdx.x / ROW_THREADS, part = threadIdx.x % ROW_THREADS, i = first + r;
    QueryTile tile = query_tile(k, v, kv_batch, kv_row, prefix_k, prefix_v, prefix_row, prefix_length, first, i, query_length, key_length,
        causal, query_offset);

    load_rows(queries, plain(Rows { q, q_batch, q_row }), b, first, query_length, column, head_dim, scale);
    float running_max = MINUS_INFINITY, running_sum = 0.0f, accumulator[FEATURES_PER_THREAD];
    for (int e = 0; e < FEATURES_PER_THREAD; e++) accumulator[e] = 0.0f;
    for (int first_key = 0; first_key < tile.tile_keys; first_key += TILE)
    {
        __syncthreads();
        load_rows(keys, tile.keys, b, first_key, tile.total, column, head_dim, 1.0f);
        load_rows(values, tile.values, b, first_key, tile.total, column, head_dim, 1.0f);
        __syncthreads();
        float scores[SCORES_PER_THREAD], tile_max = MINUS_INFINITY;
        for (int u = 0; u < SCORES_PER_THREAD; u++)
        {
            int c = part + ROW_THREADS * u;
            scores[u] = first_key + c < tile.visible ? dot_rows(queries[r], keys[c], head_dim) : MINUS_INFINITY;
            tile_max = fmaxf(tile_max, scores[u]);
        }
        float new_max = fmaxf(running_max, lanes_max(tile_max, ROW_THREADS));
        // A row with no visible key yet keeps max −inf: nothing to rescale, and every exponential is 0.
        float correction = new_max == MINUS_INFINITY ? 1.0f : expf(running_max - new_max), sum = 0.0f;
        for (int u = 0; u < SCORES_PER_THREAD; u++)
        {
            float p = scores[u] == MINUS_INFINITY ? 0.0f : expf(scores[u] - new_max);
            probabilities[r][part + ROW_THREADS * u] = p;
            sum += p;
        }
        running_sum = running_sum * correction + lanes_sum(sum, ROW_THREADS);
        running_max = new_max;
        for (int e = 0; e < FEATURES_PER_THREAD; e++) accumulator[e] *= correction;
        __syncthreads();
        accumulate_rows(accumulator, probabilities[r], values, part, head_dim);
    }
    if (i >= query_length) return;
    float* out = o + ((long long)b * query_length + i) * heads * head_dim + column;
    for (int e = 0; e < FEATURES_PER_THREAD; e++)
    {
        int d = part + ROW_THREADS * e;
        if (d < head_dim) out[d] = accumulator[e] / running_sum;
    }
    if (lse && part == 0) lse[((long long)b * heads + h) * query_length + i] = running_max + logf(running_sum);
}

// Grid (query tiles, heads, batch): D = Σ_j P·dP per query row into delta [B, H, Tq] (first pass over the keys),
// then dq = scale·Σ_j P·(dP − D)·k (second pass), written to the strided dq rows.
extern "C" __global__ void attention_backward_queries(const float* __restrict__ d_out, const float* __restrict__ q, long long q_batch, long long q_row,
    const float* __restrict__ k, const float* __restrict__ v, long long kv_batch, long long kv_row,
    const float* __restrict__ prefix_k, const float* __restrict__ prefix_v, long long prefix_row, int prefix_length,
    const float* __restrict__ lse, float* __restrict__ delta, float* __restrict__ dq, long long dq_batch, long long dq_row,
    int query_length, int key_length, int heads, int head_dim, int causal, int query_offset, float scale)
{
    __shared__ float queries[TILE][STRIDE], gradients[TILE][STRIDE], keys[TILE][STRIDE], values[TILE][STRIDE], score_gradients[TILE][TILE + 1];
    int b = blockIdx.z, h = blockIdx.y, first = blockIdx.x * TILE, column = h * head_dim, width = heads * head_dim;
    int r = threadIdx.x / ROW_THREADS, part = threadIdx.x % ROW_THREADS, i = first + r;
    QueryTile tile = query_tile(k, v, kv_batch, kv_row, prefix_k, prefix_v, prefix_row, prefix_length, first, i, query_length, key_length,
        causal, query_offset);
    long long statistic = ((long long)b * heads + h) * query_length + i;
    float row_lse = i < query_length ? lse[statistic] : 0.0f;

    load_rows(queries, plain(Rows { q, q_batch, q_row }), b, first, query_length, column, head_dim, scale);
    load_rows(gradients, plain(Rows { d_out, (long long)query_length * width, width }), b, first, query_length, column, head_dim, 1.0f);
    float row_delta = 0.0f, accumulator[FEATURES_PER_THREAD];
    for (int e = 0; e < FEATURES_PER_THREAD; e++) accumulator[e] = 0.0f;
    for (int pass = 0; pass < 2; pass++)
    {
        float delta_part = 0.0f;
        for (int first_key = 0; first_key < tile.tile_keys; first_key += TILE)
        {
            __syncthreads();
            load_rows(keys, tile.keys, b, first_key, tile.total, column, head_dim, 1.0f);
            load_rows(values, tile.values, b, first_key, tile.total, column, head_dim, 1.0f);
            __syncthreads();
            for (int u = 0; u < SCORES_PER_THREAD; u++)
            {
                int c = part + ROW_THREADS * u;
                float p = first_key + c < tile.visible ? expf(dot_rows(queries[r], keys[c], head_dim) - row_lse) : 0.0f;
                float dp = dot_rows(gradients[r], values[c], head_dim);
                if (pass == 0) delta_part += p * dp;
                else score_gradients[r][c] = p * (dp - row_delta);
            }
            if (pass == 0) continue;
            __syncthreads();
            accumulate_rows(accumulator, score_gradients[r], keys, part, head_dim);
        }
        if (pass == 0) row_delta = lanes_sum(delta_part, ROW_THREADS);
    }
    if (i >= query_length) return;
    if (part == 0) delta[statistic] = row_delta;
    float* out = dq + b * dq_batch + i * dq_row + column;
    for (int e = 0; e < FEATURES_PER_THREAD; e++)
    {
        int d = part + ROW_THREADS * e;
        if (d < head_dim) out[d] = scale * accumulator[e];
    }
}

// Grid (key tiles of one segment, heads, batch or groups): dk = scale·Σ dSᵀ·q and dv = Σ Pᵀ·dO for a segment of a
// batch's key sequence: the prefix (positions 0.., shared: every query batch adds to it) or the own rows (positions
// prefix_length.., shared when their batch stride is 0). groups = 0: grid z picks the batch, whose own keys these are.
// groups ≥ 1, a shared segment: block z walks the query batches z, z + groups, … in order and writes its sum to slot z
// of dk/dv (batch stride dkv_batch), so `groups` blocks share the walk over many batches (the prompt's classes) that
// one block would make alone; attention_sum_groups then adds the slots in slot order, so the sum stays deterministic.
// `accumulate` adds to dk/dv (the prefix's, summed over callers) instead of writing them. delta is the query
// kernel's output.
extern "C" __global__ void attention_backward_keys(const float* __restrict__ d_out, const float* __restrict__ q, long long q_batch, long long q_row,
    const float* __restrict__ k, const float* __restrict__ v, long long kv_batch, long long kv_row, int segment_start, int segment_length,
    const float* __restrict__ lse, const float* __restrict__ delta, float* __restrict__ dk, float* __restrict__ dv, long long dkv_batch, long long dkv_row,
    int batch, int groups, int accumulate, int prefix_length, int query_length, int key_length, int heads, int head_dim, int causal,
    int query_offset, float scale)
{
    __shared__ float keys[TILE][STRIDE], values[TILE][STRIDE], queries[TILE][STRIDE], gradients[TILE][STRIDE];
    __shared__ float probabilities[TILE][TILE + 1], score_gradients[TILE][TILE + 1], row_lse[TILE], row_delta[TILE];
    int h = blockIdx.y, first = blockIdx.x * TILE, column = h * head_dim, width = heads * head_dim;
    int r = threadIdx.x / ROW_THREADS, part = threadIdx.x % ROW_THREADS;
    int key_batch = groups ? 0 : blockIdx.z, slot = blockIdx.z;
    Rows segment_keys = { k, kv_batch, kv_row }, segment_values = { v, kv_batch, kv_row };
    load_rows(keys, plain(segment_keys), key_batch, first, segment_length, column, head_dim, 1.0f);
    load_rows(values, plain(segment_values), key_batch, first, segment_length, column, head_dim, 1.0f);
    // With the causal mask the first key of the tile (position segment_start + first) is seen from query
    // position − prefix_length − query_offset on; earlier query tiles are skipped.
    int first_query = causal ? max(0, segment_start + first - prefix_length - query_offset) / TILE * TILE : 0;
    float key_gradient[FEATURES_PER_THREAD], value_gradient[FEATURES_PER_THREAD];
    for (int e = 0; e < FEATURES_PER_THREAD; e++) key_gradient[e] = value_gradient[e] = 0.0f;
    for (int qb = slot; qb < (groups ? batch : slot + 1); qb += groups ? groups : 1)
        for (int first_row = first_query; first_row < query_length; first_row += TILE)
        {
            __syncthreads();
            load_rows(queries, plain(Rows { q, q_batch, q_row }), qb, first_row, query_length, column, head_dim, 1.0f);
            load_rows(gradients, plain(Rows { d_out, (long long)query_length * width, width }), qb, first_row, query_length, column, head_dim, 1.0f);
            if (threadIdx.x < TILE)
            {
                int i = first_row + threadIdx.x;
                long long statistic = ((long long)qb * heads + h) * query_length + i;
                row_lse[threadIdx.x] = i < query_length ? lse[statistic] : 0.0f;
                row_delta[threadIdx.x] = i < query_length ? delta[statistic] : 0.0f;
            }
            __syncthreads();
            int i = first_row + r;
            int visible = i < query_length ? visible_keys(i, prefix_length, key_length, causal, query_offset) : 0;
            for (int u = 0; u < SCORES_PER_THREAD; u++)
            {
                int c = part + ROW_THREADS * u;
                bool seen = first + c < segment_length && segment_start + first + c < visible;
                float p = seen ? expf(scale * dot_rows(queries[r], keys[c], head_dim) - row_lse[r]) : 0.0f;
                probabilities[r][c] = p;
                score_gradients[r][c] = seen ? p * (dot_rows(gradients[r], values[c], head_dim) - row_delta[r]) : 0.0f;
            }
            __syncthreads();
            // Now thread group r owns key row r of the tile: sums over the tile's 32 query rows.
            for (int row = 0; row < TILE; row++)
            {
                float p = probabilities[row][r], ds = score_gradients[row][r];
                for (int e = 0; e < FEATURES_PER_THREAD; e++)
                {
                    int d = part + ROW_THREADS * e;
                    if (d < head_dim)
                    {
                        value_gradient[e] += p * gradients[row][d];
                        key_gradient[e] += ds * queries[row][d];
                    }
                }
            }
        }
    if (first + r >= segment_length) return;
    float* key_out = dk + slot * dkv_batch + (first + r) * dkv_row + column;
    float* value_out = dv + slot * dkv_batch + (first + r) * dkv_row + column;
    for (int e = 0; e < FEATURES_PER_THREAD; e++)
    {
        int d = part + ROW_THREADS * e;
        if (d >= head_dim) continue;
        key_out[d] = (accumulate ? key_out[d] : 0.0f) + scale * key_gradient[e];
        value_out[d] = (accumulate ? value_out[d] : 0.0f) + value_gradient[e];
    }
}

// Grid covering rows × width: dk/dv (row stride dkv_row) = (accumulate ? themselves : 0) + the sum of the `groups`
// slots of attention_backward_keys, each [rows, width] contiguous, added in slot order.
extern "C" __global__ void attention_sum_groups(const float* __restrict__ partial_k, const float* __restrict__ partial_v, int groups,
    int rows, int width, float* __restrict__ dk, float* __restrict__ dv, long long dkv_row, int accumulate)
{
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x, count = (long long)rows * width;
    if (index >= count) return;
    long long row = index / width, column = index % width;
    float key = 0.0f, value = 0.0f;
    for (int g = 0; g < groups; g++)
    {
        key += partial_k[g * count + index];
        value += partial_v[g * count + index];
    }
    float* key_out = dk + row * dkv_row + column;
    float* value_out = dv + row * dkv_row + column;
    *key_out = (accumulate ? *key_out : 0.0f) + key;
    *value_out = (accumulate ? *value_out : 0.0f) + value;
}
