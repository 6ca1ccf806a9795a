// kernels/softmax.cu against Softmax.Reference / BackwardReference (src/Kernels/Ops/Softmax.cs) written out in double:
// y = softmax(scale * x) for scale 1, > 1 and < 0 (the shift from the row minimum), dx = scale * y * (dy - dy . y), through
// the float4 and scalar paths, in place (y = x, dx = dy), and special rows: masked (-inf) elements, an all -inf row, a NaN
// and a +inf (NaN rows as in PyTorch; for scale < 0, -inf and +inf swap roles), and a dominant logit whose probability
// must be exactly 1.0f (the prompt-denoising filter of spec 10.3 tests y == 1 in float32).
#include "check.h"
#include "softmax.cu"

#include <cstdint>
#include <initializer_list>
#include <limits>

// offset: elements by which every view starts past an aligned allocation (the launcher then picks the scalar path);
// in_place: y = x and dx = dy; specials: plant the special rows (needs rows >= 6).
struct Case { int rows, width; float scale; int offset, in_place, specials; };

static bool run(const Case& c)
{
    Inputs inputs(43);
    size_t count = (size_t)c.rows * c.width;
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> x_store = inputs.uniform(count + c.offset, -3, 3), dy_store = inputs.uniform(count + c.offset, -1, 1);
    std::vector<float> y_store(count + c.offset, nan), dx_store(count + c.offset, nan);
    float* x = x_store.data() + c.offset;
    float* dy = dy_store.data() + c.offset;
    // The dominant logit's row: every other logit at least 40 / |scale| below (above for scale < 0), so the others'
    // exponentials sum far below 2^-24 and y rounds to exactly 1 in float32 (scale is never 0 here).
    int dominant_row = -1, dominant_column = c.width / 2;
    if (c.specials)
    {
        auto row = [&](int r) { return x + (size_t)r * c.width; };
        for (int i = 0; i < c.width; i += 3) row(0)[i] = -inf;                // masked elements
        std::fill(row(1), row(1) + c.width, -inf);                            // all masked: NaN
        row(2)[c.width - 1] = nan;                                            // a NaN: NaN row
        row(3)[0] = inf;                                                      // +inf: inf - inf, NaN row
        dominant_row = 4;
        float sign = c.scale > 0 ? 1.0f : -1.0f;
        for (int i = 0; i < c.width; i++) row(4)[i] = -sign * (40 / std::abs(c.scale) + (float)i / c.width);
        row(4)[dominant_column] = 0.0f;
        std::fill(row(5), row(5) + c.width, 1.5f);                            // all equal: 1 / width
    }
    std::vector<float> x0(x, x + count), dy0(dy, dy + count);
    float* y = c.in_place ? x : y_store.data() + c.offset;
    float* dx = c.in_place ? dy : dx_store.data() + c.offset;

    std::vector<double> expected_y(count);
    for (int r = 0; r < c.rows; r++)
    {
        const float* row = &x0[(size_t)r * c.width];
        double high = -std::numeric_limits<double>::infinity(), sum = 0;
        bool any_nan = false;
        for (int i = 0; i < c.width; i++) { high = std::max(high, c.scale * (double)row[i]); any_nan |= std::isnan(row[i]); }
        if (any_nan) high = std::numeric_limits<double>::quiet_NaN(); // C#'s Math.Max propagates NaN; std::max would not
        std::vector<double> e(c.width);
        for (int i = 0; i < c.width; i++) sum += e[i] = std::exp(c.scale * (double)row[i] - high);
        for (int i = 0; i < c.width; i++) expected_y[(size_t)r * c.width + i] = e[i] / sum;
    }

    // As Softmax.ForwardCuda / BackwardCuda: WarpPerRow(rows), block 256; float4 when width % 4 == 0 and aligned.
    dim3 grid(std::max(1, (c.rows + 7) / 8));
    int forward_vectorised = c.width % 4 == 0 ? aligned16({ x, y }) : 0;
    launch(softmax_forward, grid, dim3(256), (const float*)x, y, c.rows, c.width, c.scale, forward_vectorised);
    std::vector<float> out_y(y, y + count);

    // The backward reference on the kernel's y, as BackwardReference takes it.
    std::vector<double> expected_dx(count);
    for (int r = 0; r < c.rows; r++)
    {
        double dot = 0;
        for (int i = 0; i < c.width; i++) dot += (double)dy0[(size_t)r * c.width + i] * out_y[(size_t)r * c.width + i];
        for (int i = 0; i < c.width; i++)
            expected_dx[(size_t)r * c.width + i] = c.scale * (double)out_y[(size_t)r * c.width + i] * (dy0[(size_t)r * c.width + i] - dot);
    }
    int backward_vectorised = c.width % 4 == 0 ? aligned16({ dy, y, dx }) : 0;
    launch(softmax_backward, grid, dim3(256), (const float*)dy, (const float*)y, dx, c.rows, c.width, c.scale, backward_vectorised);
    std::vector<float> out_dx(dx, dx + count);

    std::printf("%d rows x %d, scale %g, offset %d%s%s (float4: forward %d, backward %d)\n", c.rows, c.width, c.scale, c.offset,
        c.in_place ? ", in place" : "", c.specials ? ", special rows" : "", forward_vectorised, backward_vectorised);
    bool passed = report("y", out_y, expected_y) & report("dx", out_dx, expected_dx);
    if (dominant_row >= 0)
    {
        float value = out_y[(size_t)dominant_row * c.width + dominant_column];
        bool exact = value == 1.0f;
        std::printf("  %-48s %.9g%s\n", "dominant logit's y (must be exactly 1)", value, exact ? "" : "  <-- not 1.0f");
        passed &= exact;
    }
    return passed;
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 5, 1, 0, 0, 0 });          // one short row
    passed &= run({ 7, 20, 100, 0, 0, 1 });       // VOC's 20 classes at CLIP's logit scale: float4, special rows
    passed &= run({ 33, 77, 1, 0, 1, 1 });        // odd width, in place, special rows
    passed &= run({ 9, 150, -0.5f, 0, 0, 1 });    // negative scale: shift from the row minimum
    passed &= run({ 9, 132, 2, 0, 1, 0 });        // float4, 33 vectors: lane 0 takes two; in place
    passed &= run({ 9, 132, 2, 1, 0, 0 });        // the same misaligned: scalar
    passed &= run({ 8, 4, 1, 0, 0, 1 });          // one vector per row
    passed &= run({ 6, 1025, 0.125f, 0, 0, 1 });  // the longest attention rows (1024 patches + class token)
    passed &= run({ 197, 197, 0.125f, 0, 0, 0 }); // ViT-B/16 attention scores: 197 x 197, 1 / sqrt(64)
    return passed ? 0 : 1;
}
