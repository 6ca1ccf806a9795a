// kernels/quickgelu.cu against QuickGelu.Reference / BackwardReference (src/Kernels/Ops/QuickGelu.cs) written out in
// double: y = x * sigmoid(1.702 x) and dx = dy (s + 1.702 x s (1 - s)), through the float4 and scalar paths, in place
// (y = x, dx = dy), y in bfloat16 from float32 or (in place) bfloat16 x, with values far into both tails (exp overflowing to inf must give -0 and a zero gradient, not NaN).
#include "check.h"
#include "quickgelu.cu"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

// offset: elements by which every view starts past an aligned allocation (the launcher then picks the scalar path);
// in_place: y = x, dx = dy; grid: 0 for the launcher's grid, else that many blocks, which runs the grid-stride loops
// past their first pass as the launcher's 4096-block cap does only beyond ~1M items.
struct Case { long long count; int offset, in_place, grid; };

static bool run(const Case& c)
{
    Inputs inputs(31);
    size_t count = (size_t)c.count;
    std::vector<float> x_store = inputs.uniform(count + c.offset, -6, 6), dy_store = inputs.uniform(count + c.offset, -1, 1);
    std::vector<float> y_store(count + c.offset), dx_store(count + c.offset);
    float* x = x_store.data() + c.offset;
    float* dy = dy_store.data() + c.offset;
    const float tails[] = { -1e30f, -1e4f, -100.0f, -88.0f, -50.0f, -0.0f, 0.0f, 1e-20f, 50.0f, 100.0f, 1e4f, 1e30f };
    for (size_t i = 0; i < count; i += 37) x[i] = tails[(i / 37) % 12];
    std::vector<float> x0(x, x + count), dy0(dy, dy + count);
    float* y = c.in_place ? x : y_store.data() + c.offset;
    float* dx = c.in_place ? dy : dx_store.data() + c.offset;

    const double alpha = QUICKGELU_ALPHA; // 1.702f, widened as the C# reference widens Alpha
    std::vector<double> expected_y(count), expected_dx(count);
    for (size_t i = 0; i < count; i++)
    {
        double s = 1 / (1 + std::exp(-alpha * x0[i]));
        expected_y[i] = x0[i] * s;
        expected_dx[i] = dy0[i] * (s + alpha * x0[i] * s * (1 - s));
    }

    // As QuickGelu.BackwardCuda, which reads the pre-activation x: run it first, since in place the forward overwrites x.
    int backward_vectorised = aligned16({ dy, x, dx });
    launch(quickgelu_backward, dim3(c.grid ? c.grid : elementwise_blocks(c.count, backward_vectorised)), dim3(256), (const float*)dy,
        (const float*)x, dx, c.count, backward_vectorised);
    std::vector<float> out_dx(dx, dx + count);
    // The bfloat16 form (never in place) while x is intact, with the same alignment as y.
    std::vector<unsigned short> y_bfloat16_store(count + c.offset, 0xffffu);
    unsigned short* y_bfloat16 = y_bfloat16_store.data() + c.offset;
    int bfloat16_vectorised = aligned16({ x, y_bfloat16 });
    launch(quickgelu_forward_bf16, dim3(c.grid ? c.grid : elementwise_blocks(c.count, bfloat16_vectorised)), dim3(256), (const float*)x, y_bfloat16,
        c.count, bfloat16_vectorised);
    // From x stored in bfloat16 (a GEMM's bfloat16 output), in place: the float32 kernel on the widened values, rounded.
    std::vector<unsigned short> x_bits_store(count + c.offset);
    std::vector<float> x_widened_store(count + c.offset), y_widened_store(count + c.offset);
    unsigned short* x_bits = x_bits_store.data() + c.offset;
    float* x_widened = x_widened_store.data() + c.offset;
    for (size_t i = 0; i < count; i++)
    {
        x_bits[i] = bfloat16_expected(x[i]);
        unsigned int widened = (unsigned int)x_bits[i] << 16;
        std::memcpy(&x_widened[i], &widened, 4);
    }
    int bits_vectorised = aligned16({ x_bits });
    launch(quickgelu_forward_bf16_bf16, dim3(c.grid ? c.grid : elementwise_blocks(c.count, bits_vectorised)), dim3(256), (const unsigned short*)x_bits,
        x_bits, c.count, bits_vectorised);
    launch(quickgelu_forward, dim3(c.grid ? c.grid : elementwise_blocks(c.count, bits_vectorised)), dim3(256), (const float*)x_widened,
        y_widened_store.data() + c.offset, c.count, bits_vectorised);
    std::vector<float> y_widened(y_widened_store.data() + c.offset, y_widened_store.data() + c.offset + count);
    int forward_vectorised = aligned16({ x, y });
    launch(quickgelu_forward, dim3(c.grid ? c.grid : elementwise_blocks(c.count, forward_vectorised)), dim3(256), (const float*)x, y, c.count,
        forward_vectorised);
    std::vector<float> out_y(y, y + count);

    std::printf("%lld elements, offset %d%s, grid %s (float4: forward %d, backward %d)\n", c.count, c.offset, c.in_place ? ", in place" : "",
        c.grid ? std::to_string(c.grid).c_str() : "as the launcher", forward_vectorised, backward_vectorised);
    return report("y", out_y, expected_y) & report_rounded("y in bfloat16", std::vector<unsigned short>(y_bfloat16, y_bfloat16 + count), out_y)
        & report_rounded("y in bfloat16 from bfloat16 x, in place", std::vector<unsigned short>(x_bits, x_bits + count), y_widened)
        & report("dx", out_dx, expected_dx);
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 0, 0, 0 });             // one element: float4 path with no vector
    passed &= run({ 5, 0, 0, 0 });             // one vector and a tail of one
    passed &= run({ 77, 1, 0, 0 });            // misaligned: scalar
    passed &= run({ 513, 0, 1, 0 });           // in place, a tail of one
    passed &= run({ 7 * 3072 + 3, 0, 0, 0 });  // 22 blocks of float4, a tail of three
    passed &= run({ 7 * 3072, 3, 1, 0 });      // in place, misaligned: 84 scalar blocks
    passed &= run({ 197 * 3072, 0, 0, 16 });   // the MLP hidden activations of ViT-B/16 over 16 blocks (grid-stride)
    passed &= run({ 197 * 768 + 1, 2, 1, 5 }); // scalar grid-stride over 5 blocks, in place
    return passed ? 0 : 1;
}
