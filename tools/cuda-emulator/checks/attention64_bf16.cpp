// kernels/attention64_bf16.cu against attention written out in double on q, k and v rounded to bfloat16, as the kernel
// rounds them: what is left is the rounding of the probabilities, at most 2⁻⁹·max|v| on o. The cases of
// attention64.cpp (more than one tile of queries and keys, a partial last tile, causal text rows in a packed qkv
// buffer, shared keys with queries at an offset, fewer keys than a tile) and one whose scores are large, so that the
// running maximum moves between tiles and the rescaling of the output is exercised. Each also with o in bfloat16, and
// from q, k and v stored in bfloat16.
#include "attention64_case.h"
#include "attention64_bf16.cu"

// Rounded as check.h writes it out on its own, not with the kernel's bfloat16_bits.
static float rounded(float value) { return __int_as_float((int)((unsigned)bfloat16_expected(value) << 16)); }

static std::vector<unsigned short> bits_of(const std::vector<float>& values)
{
    std::vector<unsigned short> bits(values.size());
    for (size_t i = 0; i < values.size(); i++) bits[i] = bfloat16_expected(values[i]);
    return bits;
}

static bool run(const Case& c)
{
    Inputs inputs(12);
    Operands x(c, inputs);
    double scale = 1 / std::sqrt((double)DIM);
    std::vector<double> o, lse;
    reference(c, x, scale, rounded, o, lse);

    dim3 grid((c.queries + 63) / 64, c.heads, c.batch);
    std::vector<float> out(o.size(), NAN), out_lse(lse.size(), NAN);
    launch(attention_forward64_bf16, grid, dim3(THREADS_BF16), x.q.data(), x.q_batch, x.q_row, x.k, x.v, x.kv_batch, x.kv_row, out.data(),
        out_lse.data(), c.queries, c.keys, c.heads, c.causal, c.offset, (float)scale);
    // The same with o in bfloat16: the float32 output rounded, value for value.
    std::vector<unsigned short> out_bfloat16(o.size(), 0xffffu);
    launch(attention_forward64_bf16_out, grid, dim3(THREADS_BF16), x.q.data(), x.q_batch, x.q_row, x.k, x.v, x.kv_batch, x.kv_row,
        out_bfloat16.data(), (float*)nullptr, c.queries, c.keys, c.heads, c.causal, c.offset, (float)scale);

    // And from q, k and v stored in bfloat16 (the same buffers' layout): the same values, so the same o, bit for bit.
    std::vector<unsigned short> q_bits = bits_of(x.q), kv_bits = bits_of(x.kv_own), out_io(o.size(), 0xffffu);
    const unsigned short* base = c.packed ? q_bits.data() : kv_bits.data();
    const float* float_base = c.packed ? x.q.data() : x.kv_own.data();
    launch(attention_forward64_bf16_io, grid, dim3(THREADS_BF16), (const unsigned short*)q_bits.data(), x.q_batch, x.q_row, base + (x.k - float_base),
        base + (x.v - float_base), x.kv_batch, x.kv_row, out_io.data(), (float*)nullptr, c.queries, c.keys, c.heads, c.causal, c.offset, (float)scale);
    // Built for four blocks per multiprocessor: the same code (the emulator has no registers to fit), launched as the
    // launcher launches it when it times faster.
    std::vector<unsigned short> out_io_4(o.size(), 0xffffu);
    launch(attention_forward64_bf16_io_4, grid, dim3(THREADS_BF16), (const unsigned short*)q_bits.data(), x.q_batch, x.q_row, base + (x.k - float_base),
        base + (x.v - float_base), x.kv_batch, x.kv_row, out_io_4.data(), (float*)nullptr, c.queries, c.keys, c.heads, c.causal, c.offset, (float)scale);
    // The wide build in blocks of up to 16 warps, as the launcher launches it: a sequence's 16-row tiles spread evenly over
    // as few blocks as hold them. Every warp's arithmetic is the same as in blocks of four, so the bits are too.
    int row_tiles = (c.queries + 15) / 16, wide_blocks = (row_tiles + 15) / 16, warps = (row_tiles + wide_blocks - 1) / wide_blocks;
    std::vector<unsigned short> out_io_wide(o.size(), 0xffffu);
    launch(attention_forward64_bf16_io_wide, dim3(wide_blocks, c.heads, c.batch), dim3(32 * warps), (const unsigned short*)q_bits.data(), x.q_batch,
        x.q_row, base + (x.k - float_base), base + (x.v - float_base), x.kv_batch, x.kv_row, out_io_wide.data(), (float*)nullptr, c.queries, c.keys,
        c.heads, c.causal, c.offset, (float)scale);
    std::vector<float> out_wide(o.size(), NAN), lse_wide(lse.size(), NAN);
    launch(attention_forward64_bf16_wide, dim3(wide_blocks, c.heads, c.batch), dim3(32 * warps), x.q.data(), x.q_batch, x.q_row, x.k, x.v,
        x.kv_batch, x.kv_row, out_wide.data(), lse_wide.data(), c.queries, c.keys, c.heads, c.causal, c.offset, (float)scale);
    std::vector<float> out_in(o.size(), NAN), lse_in(lse.size(), NAN);
    launch(attention_forward64_bf16_in, grid, dim3(THREADS_BF16), (const unsigned short*)q_bits.data(), x.q_batch, x.q_row, base + (x.k - float_base),
        base + (x.v - float_base), x.kv_batch, x.kv_row, out_in.data(), lse_in.data(), c.queries, c.keys, c.heads, c.causal, c.offset, (float)scale);

    describe(c);
    // o: 2⁻⁹·max|v| from the probabilities' rounding, doubled for the float32 sums; lse: float32 sums of 64 products.
    return report("o", out, o, c.range * 4e-3) & report("lse", out_lse, lse, 2e-5) & report_rounded("o in bfloat16", out_bfloat16, out)
        & report_same("o in bfloat16 from bfloat16 q, k, v", out_io, out_bfloat16) & report_same("o at four blocks per multiprocessor", out_io_4, out_io)
        & report_same("o in wide blocks", out_io_wide, out_io) & report_same("o in wide blocks from float32 q, k, v", out_wide, out)
        & report_same("lse in wide blocks", lse_wide, out_lse)
        & report_same("o from bfloat16 q, k, v", out_in, out)
        & report_same("lse from bfloat16 q, k, v", lse_in, out_lse);
}

int main()
{
    bool passed = true;
    passed &= run({ 2, 130, 130, 2, 0, 0, 0, 1, 2 });  // image tokens: three query and key tiles, the last partial
    passed &= run({ 2, 77, 77, 1, 1, 0, 0, 1, 2 });    // text, causal, packed qkv
    passed &= run({ 3, 9, 80, 2, 1, 60, 1, 0, 2 });    // shared keys, queries at an offset
    passed &= run({ 2, 5, 3, 1, 0, 0, 0, 0, 2 });      // fewer keys than a tile
    passed &= run({ 1, 70, 197, 1, 0, 0, 0, 0, 6 });   // scores of tens of units: the maximum moves from tile to tile
    passed &= run({ 1, 300, 300, 1, 0, 0, 0, 0, 2 });  // over 256 queries: two wide blocks of ten warps, the last warp's rows partial
    return passed ? 0 : 1;
}
