// kernels/l2normalize.cu against L2Normalize.Reference / BackwardReference (src/Kernels/Ops/L2Normalize.cs) written
// out in double: y = x / ||x|| with the norm saved (or not: a null pointer), dx = (dy - y (y . dy)) / ||x||, through the
// float4 and scalar paths, in place (y = x, dx = dy), and a zero row, whose output and gradient are NaN (no epsilon).
#include "check.h"
#include "l2normalize.cu"

#include <cstdint>
#include <initializer_list>
#include <limits>

// offset: elements by which every view starts past an aligned allocation (odd: the launcher picks the scalar path);
// in_place: y = x and dx = dy; save_norm: 0 passes a null norm to the forward (the backward then gets the reference norm);
// zero_row: row 0 is all zeros.
struct Case { int rows, width, offset, in_place, save_norm, zero_row; };

static bool run(const Case& c)
{
    Inputs inputs(23);
    size_t count = (size_t)c.rows * c.width;
    std::vector<float> x_store = inputs.uniform(count + c.offset, -2, 2), dy_store = inputs.uniform(count + c.offset, -1, 1);
    std::vector<float> y_store(count + c.offset), dx_store(count + c.offset);
    float* x = x_store.data() + c.offset;
    float* dy = dy_store.data() + c.offset;
    if (c.zero_row) std::fill(x, x + c.width, 0.0f);
    std::vector<float> x0(x, x + count), dy0(dy, dy + count);
    float* y = c.in_place ? x : y_store.data() + c.offset;
    float* dx = c.in_place ? dy : dx_store.data() + c.offset;

    std::vector<double> expected_y(count), expected_norm(c.rows);
    for (int r = 0; r < c.rows; r++)
    {
        double squares = 0;
        for (int i = 0; i < c.width; i++) squares += (double)x0[(size_t)r * c.width + i] * x0[(size_t)r * c.width + i];
        expected_norm[r] = std::sqrt(squares);
        for (int i = 0; i < c.width; i++) expected_y[(size_t)r * c.width + i] = x0[(size_t)r * c.width + i] / expected_norm[r];
    }

    // As L2Normalize.ForwardCuda / BackwardCuda: WarpPerRow(rows), block 256; float4 when width % 4 == 0 and aligned.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> norm(c.rows, nan);
    dim3 grid(std::max(1, (c.rows + 7) / 8));
    int forward_vectorised = c.width % 4 == 0 ? aligned16({ x, y }) : 0;
    launch(l2normalize_forward, grid, dim3(256), (const float*)x, y, c.save_norm ? norm.data() : (float*)nullptr, c.rows, c.width, forward_vectorised);
    std::vector<float> out_y(y, y + count);
    if (!c.save_norm)
        for (int r = 0; r < c.rows; r++) norm[r] = (float)expected_norm[r];

    // The backward reference on the kernel's y and norm, as BackwardReference takes them.
    std::vector<double> expected_dx(count);
    for (int r = 0; r < c.rows; r++)
    {
        double dot = 0;
        for (int i = 0; i < c.width; i++) dot += (double)out_y[(size_t)r * c.width + i] * dy0[(size_t)r * c.width + i];
        for (int i = 0; i < c.width; i++)
            expected_dx[(size_t)r * c.width + i] = (dy0[(size_t)r * c.width + i] - out_y[(size_t)r * c.width + i] * dot) / norm[r];
    }
    int backward_vectorised = c.width % 4 == 0 ? aligned16({ dy, y, dx }) : 0;
    launch(l2normalize_backward, grid, dim3(256), (const float*)dy, (const float*)y, (const float*)norm.data(), dx, c.rows, c.width, backward_vectorised);
    std::vector<float> out_dx(dx, dx + count);

    std::printf("%d rows x %d, offset %d%s%s%s (float4: forward %d, backward %d)\n", c.rows, c.width, c.offset, c.in_place ? ", in place" : "",
        c.save_norm ? "" : ", no norm saved", c.zero_row ? ", row 0 zero" : "", forward_vectorised, backward_vectorised);
    bool passed = report("y", out_y, expected_y) & report("dx", out_dx, expected_dx);
    if (c.save_norm) passed &= report("norm", norm, expected_norm);
    return passed;
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 5, 0, 0, 1, 0 });      // one short row
    passed &= run({ 7, 77, 0, 0, 1, 0 });     // odd width: scalar
    passed &= run({ 33, 512, 0, 0, 1, 0 });   // the patch features' width: float4, 4 vectors per lane
    passed &= run({ 33, 512, 1, 0, 1, 0 });   // the same, misaligned views: scalar
    passed &= run({ 9, 132, 0, 0, 1, 0 });    // float4 with 33 vectors: lane 0 takes two
    passed &= run({ 9, 513, 0, 1, 0, 0 });    // in place, no norm saved
    passed &= run({ 10, 768, 0, 1, 1, 1 });   // in place, float4, a zero row (NaN)
    passed &= run({ 3, 3, 0, 0, 1, 1 });      // scalar, a zero row (NaN)
    passed &= run({ 197, 768, 0, 0, 1, 0 });  // ViT-B/16 tokens x width
    return passed ? 0 : 1;
}
