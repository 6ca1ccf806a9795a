// kernels/attention64.cu against attention written out in double: image tokens (more than one tile of queries and
// keys, a partial last tile), causal text rows in a packed qkv buffer, shared keys with queries at an offset, and
// fewer keys than a tile; o and lse.
#include "attention64_case.h"
#include "attention64.cu"

static bool run(const Case& c)
{
    Inputs inputs(11);
    Operands x(c, inputs);
    double scale = 1 / std::sqrt((double)DIM);
    std::vector<double> o, lse;
    reference(c, x, scale, [](float value) { return value; }, o, lse);

    std::vector<float> out(o.size(), NAN), out_lse(lse.size(), NAN);
    launch(attention_forward64, dim3((c.queries + ROWS - 1) / ROWS, c.heads, c.batch), dim3(THREADS_64), x.q.data(), x.q_batch, x.q_row,
        x.k, x.v, x.kv_batch, x.kv_row, out.data(), out_lse.data(), c.queries, c.keys, c.heads, c.causal, c.offset, (float)scale);

    describe(c);
    return report("o", out, o) & report("lse", out_lse, lse);
}

int main()
{
    bool passed = true;
    passed &= run({ 2, 130, 130, 2, 0, 0, 0, 1 }); // image tokens: three query and key tiles, the last partial
    passed &= run({ 2, 77, 77, 1, 1, 0, 0, 1 });   // text, causal, packed qkv
    passed &= run({ 3, 9, 80, 2, 1, 60, 1, 0 });   // shared keys, queries at an offset
    passed &= run({ 2, 5, 3, 1, 0, 0, 0, 0 });     // fewer keys than a tile
    return passed ? 0 : 1;
}
