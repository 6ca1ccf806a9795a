// kernels/argmax.cu against Argmax.Reference (src/Kernels/Ops/Argmax.cs) written out plainly: the first maximum of
// each row, a NaN beating any number (the first NaN wins), -0 equal to +0, -inf rows answering 0. Inputs are rounded
// to a few levels so that ties are frequent, and special rows are planted; indices must match exactly.
#include "check.h"
#include "argmax.cu"

#include <limits>

struct Case { int rows, width, levels; };

// The definition: best starts at 0 and moves only to a strictly larger value or to the first NaN.
static int first_maximum(const float* row, int width)
{
    int best = 0;
    for (int i = 1; i < width; i++)
        if (row[i] > row[best] || (std::isnan(row[i]) && !std::isnan(row[best])))
            best = i;
    return best;
}

static bool run(const Case& c)
{
    Inputs inputs(13);
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> x = inputs.uniform((size_t)c.rows * c.width, -1, 1);
    // levels > 0: values on a grid of that many steps, so equal maxima in different lanes are common.
    if (c.levels > 0)
        for (float& value : x) value = std::round(value * c.levels) / c.levels;
    std::mt19937 pick(c.rows * 131 + c.width);
    for (int r = 0; r < c.rows; r++)
    {
        float* row = &x[(size_t)r * c.width];
        switch (r % 9)
        {
            case 1: row[pick() % c.width] = nan; break;                                             // one NaN
            case 2: row[pick() % c.width] = nan; row[pick() % c.width] = nan; break;                // two NaNs (maybe the same)
            case 3: std::fill(row, row + c.width, -inf); break;                                     // all -inf: index 0
            case 4: for (int i = 0; i < c.width; i++) row[i] = (pick() & 1) ? 0.0f : -0.0f; break;  // signed zeros tie
            case 5: std::fill(row, row + c.width, -inf); row[c.width - 1] = -5.0f; break;           // the last element wins
            case 6: row[c.width - 1] = inf; row[pick() % c.width] = inf; break;                     // +inf ties
            case 7: std::fill(row, row + c.width, 0.25f); break;                                    // all equal: index 0
            default: break;
        }
    }
    std::vector<double> expected(c.rows);
    for (int r = 0; r < c.rows; r++) expected[r] = first_maximum(&x[(size_t)r * c.width], c.width);

    // As Argmax.ForwardCuda: LaunchShapes.WarpPerRow(rows), block 256 (8 rows).
    std::vector<int> indices(c.rows, -7);
    launch(argmax_rows, dim3(std::max(1, (c.rows + 7) / 8)), dim3(256), (const float*)x.data(), indices.data(), c.rows, c.width);
    std::vector<float> actual(indices.begin(), indices.end());

    std::printf("%d rows x %d, %s\n", c.rows, c.width, c.levels ? "values on a coarse grid (ties)" : "continuous values");
    return report("indices (exact)", actual, expected, 0.0);
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 1, 0 });      // one element
    passed &= run({ 7, 5, 2 });      // fewer elements than lanes
    passed &= run({ 9, 32, 3 });     // exactly one element per lane; every special row once
    passed &= run({ 33, 33, 2 });    // one lane holds two elements
    passed &= run({ 18, 77, 0 });    // continuous values
    passed &= run({ 45, 150, 4 });   // ADE-20k classes, ties across lanes and strides
    passed &= run({ 27, 513, 3 });   // long rows
    passed &= run({ 512, 21, 2 });   // VOC classes over 512 pixels: 64 blocks
    return passed ? 0 : 1;
}
