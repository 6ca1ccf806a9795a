// What the checks of the head-dim-64 attention kernels (attention64.cpp, attention64_bf16.cpp) share: a case's operands,
// laid out as the launcher passes them, and attention written out in double on the values a kernel multiplies.
#pragma once
#include "check.h"

struct Case { int batch, queries, keys, heads, causal, offset, shared_keys, packed; float range = 2; };

// q, k and v of a case in [-range, range]: separate buffers, or the column blocks of one packed [B, T, 3·width] buffer
// as the in-projection writes them (then queries and keys are the same T rows); keys shared by every batch (batch
// stride 0) when shared_keys.
struct Operands
{
    int width;
    long long q_row, kv_row, q_batch, kv_batch;
    std::vector<float> q, kv_own;
    const float* k;
    const float* v;

    Operands(const Case& c, Inputs& inputs) : width(c.heads * 64)
    {
        if (c.packed && (c.queries != c.keys || c.shared_keys))
        {
            std::fprintf(stderr, "a packed case needs as many queries as keys, all its own\n");
            std::exit(2);
        }
        int key_batch = c.shared_keys ? 1 : c.batch;
        q_row = kv_row = c.packed ? 3LL * width : width;
        q = inputs.uniform((size_t)c.batch * c.queries * q_row, -c.range, c.range);
        kv_own = inputs.uniform((size_t)key_batch * c.keys * kv_row * (c.packed ? 1 : 2), -c.range, c.range);
        k = c.packed ? q.data() + width : kv_own.data();
        v = c.packed ? q.data() + 2 * width : kv_own.data() + (size_t)key_batch * c.keys * kv_row;
        q_batch = (long long)c.queries * q_row;
        kv_batch = c.shared_keys ? 0 : (long long)c.keys * kv_row;
    }
};

// o [B, Tq, H·64] and lse [B, H, Tq] in double, every operand value passed through `value` first (the identity, or
// the rounding a kernel applies to them).
template <typename Value>
void reference(const Case& c, const Operands& x, double scale, Value value, std::vector<double>& o, std::vector<double>& lse)
{
    o.assign((size_t)c.batch * c.queries * x.width, 0.0);
    lse.assign((size_t)c.batch * c.heads * c.queries, 0.0);
    for (int b = 0; b < c.batch; b++)
        for (int h = 0; h < c.heads; h++)
            for (int i = 0; i < c.queries; i++)
            {
                const float* qi = &x.q[b * x.q_batch + i * x.q_row + h * 64];
                const float* k = x.k + b * x.kv_batch + h * 64;
                const float* v = x.v + b * x.kv_batch + h * 64;
                int visible = c.causal ? std::min(c.keys, c.offset + i + 1) : c.keys;
                double* out = &o[((size_t)b * c.queries + i) * x.width + h * 64];
                std::vector<double> p(visible);
                double high = -1e300, sum = 0;
                for (int j = 0; j < visible; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < 64; d++) dot += (double)value(qi[d]) * value(k[j * x.kv_row + d]);
                    high = std::max(high, p[j] = dot * scale);
                }
                for (int j = 0; j < visible; j++) sum += p[j] = std::exp(p[j] - high);
                for (int j = 0; j < visible; j++)
                    for (int d = 0; d < 64; d++) out[d] += p[j] / sum * value(v[j * x.kv_row + d]);
                lse[((size_t)b * c.heads + h) * c.queries + i] = high + std::log(sum);
            }
}

inline void describe(const Case& c)
{
    std::printf("batch %d, %d queries, %d keys, %d heads, causal %d, offset %d, shared keys %d, packed %d, inputs in ±%g\n",
        c.batch, c.queries, c.keys, c.heads, c.causal, c.offset, c.shared_keys, c.packed, c.range);
}
