// kernels/add.cu against the definitions of src/Kernels/Ops/Add.cs written out in double: the bias add (float4 and
// scalar paths), the residual add (also in place, y = x) and the two-kernel bias gradient; the bias gradient is also
// compared bit for bit with the CPU path's float32 grouping (64-row group sums in row order, then the groups in order),
// which the kernel's header promises to reproduce for any launch shape.
#include "check.h"
#include "add.cu"

#include <cstdint>
#include <initializer_list>
#include <limits>
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
    std::vector<float> y_store = inputs.uniform(count + c.offset, -3, 3), dy = inputs.uniform(count, -1, 1);
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

    // Bias gradient, as Add.BiasBackwardCuda: the group kernel (skipped for rows = 0) into an uninitialised scratch
    // (NaN here), then the total kernel, which writes zeros when there are no groups.
    int groups = (c.rows + ADD_ROW_GROUP - 1) / ADD_ROW_GROUP;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> partial((size_t)std::max(groups, 1) * c.width, nan), dbias(c.width, nan);
    unsigned column_blocks = (unsigned)((c.width + 255) / 256);
    if (groups > 0)
        launch(add_bias_backward_groups, dim3(column_blocks, groups), dim3(256), (const float*)dy.data(), partial.data(), c.rows, c.width);
    launch(add_bias_backward_total, dim3(std::max(1u, column_blocks)), dim3(256), (const float*)partial.data(), dbias.data(), groups, c.width);
    std::vector<double> dbias_sum(c.width), dbias_grouped(c.width);
    for (int i = 0; i < c.width; i++)
    {
        float total = 0.0f;
        for (int first = 0; first < c.rows; first += ADD_ROW_GROUP)
        {
            float group = 0.0f;
            for (int r = first; r < std::min(first + ADD_ROW_GROUP, c.rows); r++)
            {
                group += dy[(size_t)r * c.width + i];
                dbias_sum[i] += dy[(size_t)r * c.width + i];
            }
            total += group;
        }
        dbias_grouped[i] = total;
    }

    std::printf("%d x %d, offset %d, grid %s (bias float4 %d, residual float4 %d, %d row groups)\n", c.rows, c.width, c.offset,
        c.grid ? std::to_string(c.grid).c_str() : "as the launcher", bias_vectorised, residual_vectorised, groups);
    bool passed = report("x + bias", out_bias, biased) & report("x + y", out_residual, summed) & report("x + x (in place)", out_doubled, doubled);
    passed &= report("dbias", dbias, dbias_sum);
    passed &= report("dbias = CPU grouping, bit for bit", dbias, dbias_grouped, 0.0);
    return passed;
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 5, 0, 0 });      // one short row: scalar bias (width % 4 != 0), float4 residual with a tail of 1
    passed &= run({ 7, 77, 0, 0 });     // odd width: scalar bias, float4 residual with a tail of 3 (539 elements)
    passed &= run({ 33, 512, 0, 0 });   // float4 everywhere, bias read as float4 within a row
    passed &= run({ 33, 512, 1, 0 });   // the same through a view one float past alignment: scalar everywhere
    passed &= run({ 3, 1, 0, 0 });      // width 1: count 3 < 4, the float4 residual has no vector at all
    passed &= run({ 0, 16, 0, 0 });     // no rows: nothing added, dbias = zeros without the group kernel
    passed &= run({ 130, 33, 0, 0 });   // three row groups, the last of 2 rows
    passed &= run({ 130, 36, 0, 3 });   // float4 bias and residual over 3 blocks: the grid-stride loops wrap
    passed &= run({ 129, 77, 3, 2 });   // scalar loops over 2 blocks, misaligned view
    passed &= run({ 197, 768, 0, 16 }); // ViT-B/16 tokens x width over 16 blocks: float4 paths, 4 row groups, 3 column blocks
    return passed ? 0 : 1;
}
