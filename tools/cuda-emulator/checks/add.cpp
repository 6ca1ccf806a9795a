// kernels/add.cu against the definitions of src/Kernels/Ops/Add.cs written out in double: the bias add (float4 and
// scalar paths) and the residual add (also in place, y = x).
#include "check.h"
#include "add.cu"

#include <cstdint>
#include <initializer_list>
#include <string>

// rows x width; offset: elements by which x's view starts past an aligned allocation (a view at an odd offset makes the
// launcher choose the scalar path); grid: 0 for the launcher's grid, else that many blocks, which runs the grid-stride
// loops past their first pass as the launcher's 4096-block cap does only beyond ~1M items.
struct Case { int rows, width, offset, grid; };

static bool run(const Case& c)
{
    Inputs inputs(11);
    long long count = (long long)c.rows * c.width;
    std::vector<float> x_store = inputs.uniform(count + c.offset, -3, 3), bias = inputs.uniform(c.width, -2, 2);
    std::vector<float> y_store = inputs.uniform(count + c.offset, -3, 3);
    float* x = x_store.data() + c.offset;
    const float* y = y_store.data() + c.offset;
    std::vector<float> x0(x, x + count);

    // Bias add, as Add.BiasCuda: vectorised only when width % 4 == 0 and both pointers are aligned.
    int bias_vectorised = c.width % 4 == 0 ? aligned16({ x, bias.data() }) : 0;
    unsigned bias_grid = c.grid ? c.grid : elementwise_blocks(count, bias_vectorised);
    launch(add_bias, dim3(bias_grid), dim3(256), x, bias.data(), count, c.width, bias_vectorised);
    std::vector<double> biased(count);
    for (long long i = 0; i < count; i++) biased[i] = (double)x0[i] + bias[i % c.width];
    std::vector<float> out_bias(x, x + count);

    // Residual add on the original x, as Add.ResidualCuda; then in place (y = x): x doubles.
    std::copy(x0.begin(), x0.end(), x);
    int residual_vectorised = aligned16({ x, y });
    unsigned residual_grid = c.grid ? c.grid : elementwise_blocks(count, residual_vectorised);
    launch(add_residual, dim3(residual_grid), dim3(256), x, y, count, residual_vectorised);
    std::vector<double> summed(count), doubled(count);
    for (long long i = 0; i < count; i++) summed[i] = (double)x0[i] + y[i];
    std::vector<float> out_residual(x, x + count);
    std::copy(x0.begin(), x0.end(), x);
    launch(add_residual, dim3(residual_grid), dim3(256), x, (const float*)x, count, residual_vectorised);
    for (long long i = 0; i < count; i++) doubled[i] = 2.0 * x0[i];
    std::vector<float> out_doubled(x, x + count);

    std::printf("%d x %d, offset %d, grid %s (bias float4 %d, residual float4 %d)\n", c.rows, c.width, c.offset,
        c.grid ? std::to_string(c.grid).c_str() : "as the launcher", bias_vectorised, residual_vectorised);
    return report("x + bias", out_bias, biased) & report("x + y", out_residual, summed) & report("x + x (in place)", out_doubled, doubled);
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 5, 0, 0 });      // one short row: scalar bias (width % 4 != 0), float4 residual with a tail of 1
    passed &= run({ 7, 77, 0, 0 });     // odd width: scalar bias, float4 residual with a tail of 3 (539 elements)
    passed &= run({ 33, 512, 0, 0 });   // float4 everywhere, bias read as float4 within a row
    passed &= run({ 33, 512, 1, 0 });   // the same through a view one float past alignment: scalar everywhere
    passed &= run({ 3, 1, 0, 0 });      // width 1: count 3 < 4, the float4 residual has no vector at all
    passed &= run({ 0, 16, 0, 0 });     // no rows: nothing added
    passed &= run({ 130, 33, 0, 0 });   // odd width over more rows
    passed &= run({ 130, 36, 0, 3 });   // float4 bias and residual over 3 blocks: the grid-stride loops wrap
    passed &= run({ 129, 77, 3, 2 });   // scalar loops over 2 blocks, misaligned view
    passed &= run({ 197, 768, 0, 16 }); // ViT-B/16 tokens x width over 16 blocks: float4 paths
    return passed ? 0 : 1;
}
