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
// These kernels serve what kernels/attention64*.cu do not: the Reference prompt's text tower in training (its 74
// shared positions, then each class's 3 own positions after them: tiles with 3 live rows of 32) and head dims other
// than 64. 256 threads, 8 warps. Scores: warp w owns the tile's query rows w, w + 8, w + 16, w + 24 and lane c the
// tile's key c, so a lane's scores share every key feature it loads (per 4 features one 16-byte load of the key
// row and one of each query row, the same address for the whole warp: 5 loads for 16 products, where 8 threads per
// row took 2 per product), and a tile's few live rows go to different warps, each with short dependency chains,
// where 8 threads per row left one warp doing every live row's work in series. Products with a tile of rows
// (o += P·V, dq += dS·K, dk += dSᵀ·Q, dv += Pᵀ·dO): lane l owns features l and l + 32. Rows past the last query or
// key row are skipped, not masked.
// Shared rows are 16-byte aligned and padded to 68 floats: lane c reading features d..d+3 of key row c in one
// 16-byte load hits banks 4c + d.. mod 32, so each quarter of the warp (one pass of a 16-byte load) covers the 32
// banks once. Head dims up to 64: CLIP's are all 64 (width/64 heads).

#include "warp.cuh"

#define TILE 32
#define WARPS 8
#define THREADS (WARPS * 32)
#define ROWS_PER_WARP (TILE / WARPS)
#define MAX_HEAD_DIM 64
#define STRIDE (MAX_HEAD_DIM + 4)
#define FEATURES_PER_LANE (MAX_HEAD_DIM / 32)
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

// How many of a tile's first `count` rows warp w owns: rows w, w + WARPS, … below count and TILE. A warp without rows
// skips the passes over the tile (a branch the whole warp takes, so no shuffle misses a lane; no barrier inside).
__device__ __forceinline__ int warp_rows(int count, int warp)
{
    count = min(count, TILE);
    return count > warp ? (count - warp + WARPS - 1) / WARPS : 0;
}

// scores[u] = Σ_d a[warp + WARPS·u][d] · b[lane][d] for the warp's first `rows` rows of a, d in order: four features
// of b's row per 16-byte load, shared by all of them, and each 16-byte load of a's is one address for the whole warp.
__device__ __forceinline__ void row_scores(float* scores, const float (*a)[STRIDE], const float (*b)[STRIDE], int warp, int lane, int rows, int head_dim)
{
    for (int u = 0; u < ROWS_PER_WARP; u++) scores[u] = 0.0f;
    int d = 0;
    for (; d + 4 <= head_dim; d += 4)
    {
        float4 x = *reinterpret_cast<const float4*>(&b[lane][d]);
#pragma unroll
        for (int u = 0; u < ROWS_PER_WARP; u++)
            if (u < rows)
            {
                float4 y = *reinterpret_cast<const float4*>(&a[warp + WARPS * u][d]);
                scores[u] += y.x * x.x;
                scores[u] += y.y * x.y;
                scores[u] += y.z * x.z;
                scores[u] += y.w * x.w;
            }
    }
    for (; d < head_dim; d++)
    {
        float x = b[lane][d];
#pragma unroll
        for (int u = 0; u < ROWS_PER_WARP; u++)
            if (u < rows) scores[u] += a[warp + WARPS * u][d] * x;
    }
}

// What both backward kernels recompute P and dS from: the warp's rows' scores q·k and products dO·v with the lane's key.
__device__ __forceinline__ void score_pairs(float* scores, float* products, const float (*queries)[STRIDE], const float (*gradients)[STRIDE],
    const float (*keys)[STRIDE], const float (*values)[STRIDE], int warp, int lane, int rows, int head_dim)
{
    row_scores(scores, queries, keys, warp, lane, rows, head_dim);
    row_scores(products, gradients, values, warp, lane, rows, head_dim);
}

// The features lane and lane + 32 of a shared row (0 past head_dim).
__device__ __forceinline__ void lane_features(float* x, const float* row, int lane, int head_dim)
{
    for (int e = 0; e < FEATURES_PER_LANE; e++)
        x[e] = lane + 32 * e < head_dim ? row[lane + 32 * e] : 0.0f;
}

// accumulator[u][e] += Σ_{c < count} weights[warp + WARPS·u][c] · rows[c][lane + 32e]: the warp's rows of a score
// tile times a tile of key or value rows, over the features the lane owns.
__device__ __forceinline__ void accumulate_rows(float (*accumulator)[FEATURES_PER_LANE], const float (*weights)[TILE + 1], const float (*rows)[STRIDE],
    int warp, int lane, int row_count, int count, int head_dim)
{
    for (int c = 0; c < count; c++)
    {
        float x[FEATURES_PER_LANE];
        lane_features(x, rows[c], lane, head_dim);
#pragma unroll
        for (int u = 0; u < ROWS_PER_WARP; u++)
            if (u < row_count)
            {
                float weight = weights[warp + WARPS * u][c];
                for (int e = 0; e < FEATURES_PER_LANE; e++) accumulator[u][e] += weight * x[e];
            }
    }
}

// How many keys of the sequence query i sees.
__device__ __forceinline__ int visible_keys(int i, int prefix_length, int key_length, int causal, int query_offset)
{
    return causal ? prefix_length + query_offset + i + 1 : prefix_length + key_length;
}

// What the kernels over a tile of query rows derive from their launch: the key and value sequences of the batch,
// their length, and how many keys the tile's last row sees.
struct QueryTile
{
    Sequence keys, values;
    int total, tile_keys;
};

__device__ __forceinline__ QueryTile query_tile(const float* k, const float* v, long long kv_batch, long long kv_row,
    const float* prefix_k, const float* prefix_v, long long prefix_row, int prefix_length, int first, int query_length,
    int key_length, int causal, int query_offset)
{
    QueryTile tile;
    tile.keys = { { k, kv_batch, kv_row }, { prefix_k, 0, prefix_row }, prefix_length };
    tile.values = { { v, kv_batch, kv_row }, { prefix_v, 0, prefix_row }, prefix_length };
    tile.total = prefix_length + key_length;
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
    __shared__ __align__(16) float queries[TILE][STRIDE], keys[TILE][STRIDE], values[TILE][STRIDE];
    __shared__ float probabilities[TILE][TILE + 1];
    int b = blockIdx.z, h = blockIdx.y, first = blockIdx.x * TILE, column = h * head_dim;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, rows = warp_rows(query_length - first, warp);
    QueryTile tile = query_tile(k, v, kv_batch, kv_row, prefix_k, prefix_v, prefix_row, prefix_length, first, query_length, key_length,
        causal, query_offset);

    load_rows(queries, plain(Rows { q, q_batch, q_row }), b, first, query_length, column, head_dim, scale);
    float running_max[ROWS_PER_WARP], running_sum[ROWS_PER_WARP], accumulator[ROWS_PER_WARP][FEATURES_PER_LANE];
    for (int u = 0; u < ROWS_PER_WARP; u++)
    {
        running_max[u] = MINUS_INFINITY;
        running_sum[u] = 0.0f;
        for (int e = 0; e < FEATURES_PER_LANE; e++) accumulator[u][e] = 0.0f;
    }
    for (int first_key = 0; first_key < tile.tile_keys; first_key += TILE)
    {
        __syncthreads();
        load_rows(keys, tile.keys, b, first_key, tile.total, column, head_dim, 1.0f);
        load_rows(values, tile.values, b, first_key, tile.total, column, head_dim, 1.0f);
        __syncthreads();
        if (rows == 0) continue;
        int j = first_key + lane;
        float scores[ROWS_PER_WARP];
        row_scores(scores, queries, keys, warp, lane, rows, head_dim);
#pragma unroll
        for (int u = 0; u < ROWS_PER_WARP; u++)
        {
            if (u >= rows) continue;
            int r = warp + WARPS * u;
            float score = j < visible_keys(first + r, prefix_length, key_length, causal, query_offset) ? scores[u] : MINUS_INFINITY;
            float new_max = fmaxf(running_max[u], warp_max(score));
            // A row with no visible key yet keeps max −inf: nothing to rescale, and every exponential is 0.
            float correction = new_max == MINUS_INFINITY ? 1.0f : expf(running_max[u] - new_max);
            float p = score == MINUS_INFINITY ? 0.0f : expf(score - new_max);
            probabilities[r][lane] = p;
            running_sum[u] = running_sum[u] * correction + warp_sum(p);
            running_max[u] = new_max;
            for (int e = 0; e < FEATURES_PER_LANE; e++) accumulator[u][e] *= correction;
        }
        // The products read the warp's own rows of probabilities only.
        __syncwarp();
        accumulate_rows(accumulator, probabilities, values, warp, lane, rows, min(TILE, tile.tile_keys - first_key), head_dim);
    }
#pragma unroll
    for (int u = 0; u < ROWS_PER_WARP; u++)
    {
        if (u >= rows) continue;
        int i = first + warp + WARPS * u;
        float* out = o + ((long long)b * query_length + i) * heads * head_dim + column;
        for (int e = 0; e < FEATURES_PER_LANE; e++)
            if (lane + 32 * e < head_dim) out[lane + 32 * e] = accumulator[u][e] / running_sum[u];
        if (lse && lane == 0) lse[((long long)b * heads + h) * query_length + i] = running_max[u] + logf(running_sum[u]);
    }
}

// Grid (query tiles, heads, batch): D = Σ_j P·dP per query row into delta [B, H, Tq], then dq = scale·Σ_j P·(dP − D)·k
// (a pass over the keys), written to the strided dq rows. D is a first pass over the keys, or, given the forward's
// output o (contiguous like dO), dO·o of the row (Σ_j P·(dO·v_j) = dO·Σ_j P·v_j), as FlashAttention-2 takes it.
extern "C" __global__ void attention_backward_queries(const float* __restrict__ d_out, const float* __restrict__ q, long long q_batch, long long q_row,
    const float* __restrict__ k, const float* __restrict__ v, long long kv_batch, long long kv_row,
    const float* __restrict__ prefix_k, const float* __restrict__ prefix_v, long long prefix_row, int prefix_length,
    const float* __restrict__ lse, const float* __restrict__ o, float* __restrict__ delta, float* __restrict__ dq, long long dq_batch,
    long long dq_row, int query_length, int key_length, int heads, int head_dim, int causal, int query_offset, float scale)
{
    __shared__ __align__(16) float queries[TILE][STRIDE], gradients[TILE][STRIDE], keys[TILE][STRIDE], values[TILE][STRIDE];
    __shared__ float score_gradients[TILE][TILE + 1];
    int b = blockIdx.z, h = blockIdx.y, first = blockIdx.x * TILE, column = h * head_dim, width = heads * head_dim;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, rows = warp_rows(query_length - first, warp);
    QueryTile tile = query_tile(k, v, kv_batch, kv_row, prefix_k, prefix_v, prefix_row, prefix_length, first, query_length, key_length,
        causal, query_offset);
    long long statistics = ((long long)b * heads + h) * query_length + first + warp;
    float row_lse[ROWS_PER_WARP], row_delta[ROWS_PER_WARP], accumulator[ROWS_PER_WARP][FEATURES_PER_LANE];
#pragma unroll
    for (int u = 0; u < ROWS_PER_WARP; u++)
    {
        row_lse[u] = u < rows ? lse[statistics + WARPS * u] : 0.0f;
        row_delta[u] = 0.0f;
        for (int e = 0; e < FEATURES_PER_LANE; e++) accumulator[u][e] = 0.0f;
        if (!o || u >= rows) continue;
        long long at = ((long long)b * query_length + first + warp + WARPS * u) * width + column;
        float part = 0.0f;
        for (int e = 0; e < FEATURES_PER_LANE; e++)
            if (lane + 32 * e < head_dim) part += d_out[at + lane + 32 * e] * o[at + lane + 32 * e];
        row_delta[u] = warp_sum(part);
    }

    load_rows(queries, plain(Rows { q, q_batch, q_row }), b, first, query_length, column, head_dim, scale);
    load_rows(gradients, plain(Rows { d_out, (long long)query_length * width, width }), b, first, query_length, column, head_dim, 1.0f);
    for (int pass = o ? 1 : 0; pass < 2; pass++)
    {
        float delta_part[ROWS_PER_WARP] = {};
        for (int first_key = 0; first_key < tile.tile_keys; first_key += TILE)
        {
            __syncthreads();
            load_rows(keys, tile.keys, b, first_key, tile.total, column, head_dim, 1.0f);
            load_rows(values, tile.values, b, first_key, tile.total, column, head_dim, 1.0f);
            __syncthreads();
            if (rows == 0) continue;
            int j = first_key + lane;
            float scores[ROWS_PER_WARP], products[ROWS_PER_WARP];
            score_pairs(scores, products, queries, gradients, keys, values, warp, lane, rows, head_dim);
#pragma unroll
            for (int u = 0; u < ROWS_PER_WARP; u++)
            {
                if (u >= rows) continue;
                int r = warp + WARPS * u;
                bool seen = j < visible_keys(first + r, prefix_length, key_length, causal, query_offset);
                float p = seen ? expf(scores[u] - row_lse[u]) : 0.0f;
                if (pass == 0) delta_part[u] += seen ? p * products[u] : 0.0f;
                else score_gradients[r][lane] = seen ? p * (products[u] - row_delta[u]) : 0.0f;
            }
            if (pass == 0) continue;
            __syncwarp();
            accumulate_rows(accumulator, score_gradients, keys, warp, lane, rows, min(TILE, tile.tile_keys - first_key), head_dim);
        }
#pragma unroll
        for (int u = 0; u < ROWS_PER_WARP; u++)
            if (pass == 0 && u < rows) row_delta[u] = warp_sum(delta_part[u]);
    }
#pragma unroll
    for (int u = 0; u < ROWS_PER_WARP; u++)
    {
        if (u >= rows) continue;
        int i = first + warp + WARPS * u;
        if (lane == 0) delta[statistics + WARPS * u] = row_delta[u];
        float* out = dq + b * dq_batch + i * dq_row + column;
        for (int e = 0; e < FEATURES_PER_LANE; e++)
            if (lane + 32 * e < head_dim) out[lane + 32 * e] = scale * accumulator[u][e];
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
    __shared__ __align__(16) float keys[TILE][STRIDE], values[TILE][STRIDE], queries[TILE][STRIDE], gradients[TILE][STRIDE];
    __shared__ float probabilities[TILE][TILE + 1], score_gradients[TILE][TILE + 1], row_lse[TILE], row_delta[TILE];
    int h = blockIdx.y, first = blockIdx.x * TILE, column = h * head_dim, width = heads * head_dim;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, key_rows = warp_rows(segment_length - first, warp);
    int key_batch = groups ? 0 : blockIdx.z, slot = blockIdx.z;
    bool key_exists = first + lane < segment_length;
    Rows segment_keys = { k, kv_batch, kv_row }, segment_values = { v, kv_batch, kv_row };
    load_rows(keys, plain(segment_keys), key_batch, first, segment_length, column, head_dim, 1.0f);
    load_rows(values, plain(segment_values), key_batch, first, segment_length, column, head_dim, 1.0f);
    // With the causal mask the first key of the tile (position segment_start + first) is seen from query
    // position − prefix_length − query_offset on; earlier query tiles are skipped.
    int first_query = causal ? max(0, segment_start + first - prefix_length - query_offset) / TILE * TILE : 0;
    float key_gradient[ROWS_PER_WARP][FEATURES_PER_LANE] = {}, value_gradient[ROWS_PER_WARP][FEATURES_PER_LANE] = {};
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
            int row_count = min(TILE, query_length - first_row), rows = warp_rows(row_count, warp);
            if (rows > 0)
            {
                float scores[ROWS_PER_WARP], products[ROWS_PER_WARP];
                score_pairs(scores, products, queries, gradients, keys, values, warp, lane, rows, head_dim);
#pragma unroll
                for (int u = 0; u < ROWS_PER_WARP; u++)
                {
                    int r = warp + WARPS * u;
                    if (u >= rows) continue;
                    bool seen = key_exists && segment_start + first + lane < visible_keys(first_row + r, prefix_length, key_length, causal, query_offset);
                    float p = seen ? expf(scale * scores[u] - row_lse[r]) : 0.0f;
                    probabilities[r][lane] = p;
                    score_gradients[r][lane] = seen ? p * (products[u] - row_delta[r]) : 0.0f;
                }
            }
            __syncthreads();
            // Now warp w owns key rows w, w + 8, …: sums over the tile's query rows.
            if (key_rows == 0) continue;
            for (int r = 0; r < row_count; r++)
            {
                float query[FEATURES_PER_LANE], gradient[FEATURES_PER_LANE];
                lane_features(query, queries[r], lane, head_dim);
                lane_features(gradient, gradients[r], lane, head_dim);
#pragma unroll
                for (int u = 0; u < ROWS_PER_WARP; u++)
                {
                    if (u >= key_rows) continue;
                    float p = probabilities[r][warp + WARPS * u], ds = score_gradients[r][warp + WARPS * u];
                    for (int e = 0; e < FEATURES_PER_LANE; e++)
                    {
                        value_gradient[u][e] += p * gradient[e];
                        key_gradient[u][e] += ds * query[e];
                    }
                }
            }
        }
#pragma unroll
    for (int u = 0; u < ROWS_PER_WARP; u++)
    {
        if (u >= key_rows) continue;
        int row = first + warp + WARPS * u;
        float* key_out = dk + slot * dkv_batch + row * dkv_row + column;
        float* value_out = dv + slot * dkv_batch + row * dkv_row + column;
        for (int e = 0; e < FEATURES_PER_LANE; e++)
        {
            int d = lane + 32 * e;
            if (d >= head_dim) continue;
            key_out[d] = (accumulate ? key_out[d] : 0.0f) + scale * key_gradient[u][e];
            value_out[d] = (accumulate ? value_out[d] : 0.0f) + value_gradient[u][e];
        }
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
