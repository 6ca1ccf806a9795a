// kernels/gumbel_softmax.cu against GumbelSoftmax.Reference / BackwardReference (src/Kernels/Ops/GumbelSoftmax.cs):
// z = (fl(scale * O) + g) / tau formed in float32 as the spec rounds it, the softmax in double, the hard one-hot of the
// first maximum, and the straight-through backward in double; with explicit noise and with Philox noise drawn in the
// kernel.
//
// The Philox noise is checked against a C++ re-implementation of src/Kernels/Random/Philox.cs written here from the C#
// (not from the kernel): Block, Bits and ToUniform, then g = -log(-log u) in double. That re-implementation and the
// kernel's philox_block are first checked against the Random123 known-answer vectors of Philox4x32-10, and the kernel's
// word and uniform float bit for bit against the re-implementation.
#include "check.h"
#include "gumbel_softmax.cu"

#include <limits>

// Philox.cs, line by line: ten rounds, the key bumped by the Weyl constants before every round but the first.
namespace cpu
{
struct Words { uint32_t x[4]; };
static Words block(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1)
{
    for (int round = 0; round < 10; round++)
    {
        if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        uint64_t product0 = (uint64_t)0xD2511F53u * c0, product1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(product0 >> 32), lo0 = (uint32_t)product0, hi1 = (uint32_t)(product1 >> 32), lo1 = (uint32_t)product1;
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    }
    return { { c0, c1, c2, c3 } };
}
static uint32_t bits(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t b = index >> 2;
    return block((uint32_t)b, (uint32_t)(b >> 32), (uint32_t)stream, (uint32_t)(stream >> 32), (uint32_t)seed, (uint32_t)(seed >> 32)).x[index & 3];
}
static float uniform(uint32_t word) { const float step = 1.0f / (1 << 23); return (word >> 9) * step + step / 2; }
}

// Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, and the four output words.
static bool known_answers()
{
    struct Vector { uint32_t counter[4], key[2], expected[4]; };
    const Vector vectors[] = {
        { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u } },
        { { ~0u, ~0u, ~0u, ~0u }, { ~0u, ~0u }, { 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu } },
        { { 0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u }, { 0xa4093822u, 0x299f31d0u }, { 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u } },
    };
    int wrong_cpu = 0, wrong_kernel = 0;
    for (const Vector& v : vectors)
    {
        cpu::Words w = cpu::block(v.counter[0], v.counter[1], v.counter[2], v.counter[3], v.key[0], v.key[1]);
        unsigned c0 = v.counter[0], c1 = v.counter[1], c2 = v.counter[2], c3 = v.counter[3];
        philox_block(c0, c1, c2, c3, v.key[0], v.key[1]);
        unsigned kernel[4] = { c0, c1, c2, c3 };
        for (int i = 0; i < 4; i++)
        {
            wrong_cpu += w.x[i] != v.expected[i];
            wrong_kernel += kernel[i] != v.expected[i];
        }
    }
    // The word of an element index, and its uniform float, kernel against Philox.cs, over indices that use the high
    // words of the block counter, the stream and the seed, and over every word position.
    int wrong_bits = 0, wrong_uniform = 0;
    std::mt19937_64 generator(5);
    for (int i = 0; i < 2000; i++)
    {
        uint64_t seed = generator(), stream = i % 3 ? generator() : i, index = i % 2 ? generator() : (uint64_t)i;
        wrong_bits += philox_bits(seed, stream, index) != cpu::bits(seed, stream, index);
    }
    for (uint32_t word : { 0u, 1u, 511u, 512u, 0x7fffffffu, 0x80000000u, 0xfffffe00u, 0xffffffffu })
        wrong_uniform += philox_uniform(word) != cpu::uniform(word);
    for (int i = 0; i < 2000; i++)
    {
        uint32_t word = (uint32_t)generator();
        float a = philox_uniform(word), b = cpu::uniform(word);
        wrong_uniform += std::memcmp(&a, &b, 4) != 0 || !(a > 0.0f && a < 1.0f);
    }
    bool passed = wrong_cpu == 0 && wrong_kernel == 0 && wrong_bits == 0 && wrong_uniform == 0;
    std::printf("Philox4x32-10\n  %-48s %d words wrong in Philox.cs's, %d in the kernel's%s\n", "known-answer vectors (Random123)", wrong_cpu,
        wrong_kernel, wrong_cpu || wrong_kernel ? "  <-- differs" : "");
    std::printf("  %-48s %d of 2000 words, %d uniforms differ%s\n", "kernel words and uniforms = Philox.cs", wrong_bits, wrong_uniform,
        wrong_bits || wrong_uniform ? "  <-- differs" : "");
    return passed;
}

// philox: 0 for explicit noise, 1 for noise drawn in the kernel from (seed, stream, first + element index).
// ties: every third row has equal logits and zero noise (explicit noise only), so the first class must win.
struct Case { int rows, classes; float scale, tau; int philox; uint64_t seed, stream, first; int ties; };

static bool run(const Case& c)
{
    Inputs inputs(19);
    size_t count = (size_t)c.rows * c.classes;
    std::vector<float> logits = inputs.uniform(count, -1, 1), d_mask = inputs.uniform(count, -1, 1);
    std::vector<float> noise(count);
    for (size_t i = 0; i < count; i++)
        noise[i] = c.philox ? (float)-std::log(-std::log((double)cpu::uniform(cpu::bits(c.seed, c.stream, c.first + i))))
                            : (float)-std::log(-std::log((double)inputs.uniform(1, 1e-6f, 1 - 1e-6f)[0]));
    if (c.ties)
        for (int r = 0; r < c.rows; r += 3)
            for (int k = 0; k < c.classes; k++) { logits[(size_t)r * c.classes + k] = 0.5f; noise[(size_t)r * c.classes + k] = 0.0f; }

    // The reference forward: z in float32 (scale * O, + g, / tau, each rounded), softmax in double, first maximum.
    std::vector<double> y_soft(count), mask(count);
    for (int r = 0; r < c.rows; r++)
    {
        size_t at = (size_t)r * c.classes;
        std::vector<double> z(c.classes);
        double high = -std::numeric_limits<double>::infinity(), sum = 0;
        for (int k = 0; k < c.classes; k++)
        {
            float product = c.scale * logits[at + k], shifted = product + noise[at + k];
            z[k] = shifted / c.tau;
            high = std::max(high, z[k]);
        }
        for (int k = 0; k < c.classes; k++) sum += std::exp(z[k] - high);
        int hard = 0;
        for (int k = 0; k < c.classes; k++)
        {
            y_soft[at + k] = std::exp(z[k] - high) / sum;
            if (y_soft[at + k] > y_soft[at + hard]) hard = k;
        }
        mask[at + hard] = 1;
    }

    // As GumbelSoftmax.LaunchForward / BackwardCuda: LaunchShapes.WarpPerRow(rows), block 256; a null noise pointer
    // with (seed, stream, firstIndex) for the Philox overload, else seed = stream = first = 0. Outputs start as NaN.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> out_mask(count, nan), out_soft(count, nan), d_logits(count, nan);
    dim3 grid(std::max(1, (c.rows + 7) / 8));
    // The Philox cases pass the stream in device memory, as a replayed training step does, with a wrong value as the argument.
    unsigned long long stream_at = c.stream;
    launch(gumbel_softmax_forward, grid, dim3(256), (const float*)logits.data(), c.philox ? (const float*)nullptr : (const float*)noise.data(),
        out_mask.data(), out_soft.data(), c.rows, c.classes, c.scale, c.tau, c.philox ? c.seed : 0ull, c.philox ? c.stream + 1 : 0ull,
        c.philox ? c.first : 0ull, c.philox ? (const unsigned long long*)&stream_at : (const unsigned long long*)nullptr);
    float factor = c.scale / c.tau;
    launch(gumbel_softmax_backward, grid, dim3(256), (const float*)d_mask.data(), (const float*)out_soft.data(), d_logits.data(), c.rows, c.classes, factor);

    // The reference backward on the kernel's y_soft (as BackwardReference takes the saved y_soft).
    std::vector<double> expected_d(count);
    for (int r = 0; r < c.rows; r++)
    {
        size_t at = (size_t)r * c.classes;
        double dot = 0;
        for (int k = 0; k < c.classes; k++) dot += (double)d_mask[at + k] * out_soft[at + k];
        for (int k = 0; k < c.classes; k++) expected_d[at + k] = (double)c.scale / c.tau * out_soft[at + k] * (d_mask[at + k] - dot);
    }

    std::printf("%d rows x %d classes, scale %g, tau %g, %s%s\n", c.rows, c.classes, c.scale, c.tau,
        c.philox ? ("Philox noise (seed " + std::to_string(c.seed) + ", stream " + std::to_string(c.stream) + ", first " + std::to_string(c.first) + ")").c_str()
                 : "explicit noise", c.ties ? ", tied rows" : "");
    return report("y_soft", out_soft, y_soft) & report("mask (one-hot of the first maximum)", out_mask, mask) & report("d_logits", d_logits, expected_d);
}

int main()
{
    bool passed = known_answers();
    passed &= run({ 1, 1, 100, 1, 0, 0, 0, 0, 0 });                          // one class: y = 1, mask = 1
    passed &= run({ 7, 5, 1, 1, 0, 0, 0, 0, 1 });                            // fewer classes than lanes, tied rows
    passed &= run({ 33, 21, 100, 1, 0, 0, 0, 0, 1 });                        // VOC, ReCLIP++'s scale
    passed &= run({ 9, 77, 1, 0.5f, 0, 0, 0, 0, 1 });                        // tau != 1: the division
    passed &= run({ 17, 150, 2, 1, 0, 0, 0, 0, 0 });                         // ADE-20k: five elements per lane
    passed &= run({ 7, 21, 100, 1, 1, 42, 0, 0, 0 });                        // Philox from element 0
    passed &= run({ 11, 77, 1, 0.5f, 1, 0x123456789abcdefull, 3, 5, 0 });    // seed, stream; first not a multiple of 4
    passed &= run({ 5, 33, 1, 1, 1, 7, 0xfedcba9876543210ull, (1ull << 34) - 9, 0 }); // counters crossing into the high word
    passed &= run({ 196, 21, 100, 1, 1, 2024, 1, 196 * 21, 0 });             // a 14 x 14 image's patches, the second of a batch
    return passed ? 0 : 1;
}
