// kernels/attention64_bf16.cu against attention written out in double on q, k and v rounded to bfloat16, as the kernel
// rounds them: what is left is the rounding of the probabilities, at most 2⁻⁹·max|v| on o. The cases of
// attention64.cpp (more than one tile of queries and keys, a partial last tile, causal text rows in a packed qkv
// buffer, shared keys with queries at an offset, fewer keys than a tile) and one whose scores are large, so that the
// running maximum moves between tiles and the rescaling of the output is exercised.
#include "check.h"
#include "attention64_bf16.cu"

struct Case { int batch, queries, keys, heads, causal, offset, shared_keys, packed; float range; };

static float rounded(float value) { return __int_as_float((int)((unsigned)bfloat16_bits(value) << 16)); }

// o and lse of one query row against its visible keys, in double.
static void reference_row(const float* qi, const float* k, const float* v, long long kv_row, int visible, double scale,
    double* o, double* lse)
{
    std::vector<double> p(visible);
    double high = -1e300, sum = 0;
    for (int j = 0; j < visible; j++)
    {
        double dot = 0;
        for (int d = 0; d < DIM; d++) dot += (double)rounded(qi[d]) * rounded(k[j * kv_row + d]);
        high = std::max(high, p[j] = dot * scale);
    }
    for (int j = 0; j < visible; j++) sum += p[j] = std::exp(p[j] - high);
    for (int j = 0; j < visible; j++)
        for (int d = 0; d < DIM; d++) o[d] += p[j] / sum * rounded(v[j * kv_row + d]);
    *lse = high + std::log(sum);
}

static bool run(const Case& c)
{
    Inputs inputs(12);
    int width = c.heads * DIM, key_batch = c.shared_keys ? 1 : c.batch;
    // Packed: q, k and v are the column blocks of one [B, T, 3·width] buffer, as the in-projection writes them.
    long long q_row = c.packed ? 3LL * width : width, kv_row = q_row;
    std::vector<float> q = inputs.uniform((size_t)c.batch * c.queries * q_row, -c.range, c.range);
    std::vector<float> kv_own = inputs.uniform((size_t)key_batch * c.keys * kv_row * (c.packed ? 1 : 2), -c.range, c.range);
    const float* k = c.packed ? q.data() + width : kv_own.data();
    const float* v = c.packed ? q.data() + 2 * width : kv_own.data() + (size_t)key_batch * c.keys * kv_row;
    long long q_batch = (long long)c.queries * q_row, kv_batch = c.shared_keys ? 0 : (long long)c.keys * kv_row;
    double scale = 1 / std::sqrt((double)DIM);

    std::vector<double> o((size_t)c.batch * c.queries * width), lse((size_t)c.batch * c.heads * c.queries);
    for (int b = 0; b < c.batch; b++)
        for (int h = 0; h < c.heads; h++)
            for (int i = 0; i < c.queries; i++)
                reference_row(&q[b * q_batch + i * q_row + h * DIM], k + b * kv_batch + h * DIM, v + b * kv_batch + h * DIM, kv_row,
                    c.causal ? std::min(c.keys, c.offset + i + 1) : c.keys, scale, &o[((size_t)b * c.queries + i) * width + h * DIM],
                    &lse[((size_t)b * c.heads + h) * c.queries + i]);

    std::vector<float> out(o.size(), NAN), out_lse(lse.size(), NAN);
    launch(attention_forward64_bf16, dim3((c.queries + ROWS - 1) / ROWS, c.heads, c.batch), dim3(THREADS_BF16), q.data(), q_batch, q_row,
        k, v, kv_batch, kv_row, out.data(), out_lse.data(), c.queries, c.keys, c.heads, c.causal, c.offset, (float)scale);

    std::printf("batch %d, %d queries, %d keys, %d heads, causal %d, offset %d, shared keys %d, packed %d, inputs in ±%g\n",
        c.batch, c.queries, c.keys, c.heads, c.causal, c.offset, c.shared_keys, c.packed, c.range);
    // o: 2⁻⁹·max|v| from the probabilities' rounding, doubled for the float32 sums; lse: float32 sums of 64 products.
    return report("o", out, o, c.range * 4e-3) & report("lse", out_lse, lse, 2e-5);
}

int main()
{
    bool passed = true;
    passed &= run({ 2, 130, 130, 2, 0, 0, 0, 1, 2 });  // image tokens: three query and key tiles, the last partial
    passed &= run({ 2, 77, 77, 1, 1, 0, 0, 1, 2 });    // text, causal, packed qkv
    passed &= run({ 3, 9, 80, 2, 1, 60, 1, 0, 2 });    // shared keys, queries at an offset
    passed &= run({ 2, 5, 3, 1, 0, 0, 0, 0, 2 });      // fewer keys than a tile
    passed &= run({ 1, 70, 197, 1, 0, 0, 0, 1, 6 });   // scores of tens of units: the maximum moves from tile to tile
    return passed ? 0 : 1;
}
