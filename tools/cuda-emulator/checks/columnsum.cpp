// kernels/columnsum.cu against the sums written out in the same order (double, row by row, rounded once): the same
// floats, as the CPU gives; more columns than threads so that the grid-stride loop runs. row_mean the same way, its
// means divided in double and rounded once, into another buffer and in place.
#include "check.h"
#include "columnsum.cu"

static bool run(int rows, int columns, unsigned blocks)
{
    Inputs inputs(11);
    std::vector<float> x = inputs.uniform((size_t)rows * columns), y(columns, 99.0f), expected(columns);
    std::vector<double> sums(columns, 0.0);
    for (int j = 0; j < columns; j++)
    {
        for (int i = 0; i < rows; i++) sums[j] += x[(size_t)i * columns + j];
        expected[j] = (float)sums[j];
    }
    launch(column_sum, dim3(blocks), dim3(128), x.data(), y.data(), rows, columns);
    std::printf("%d x %d in %u blocks\n", rows, columns, blocks);
    bool passed = report_same("y", y, expected);

    std::vector<float> means((size_t)rows * columns, 99.0f), expectedMeans((size_t)rows * columns);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++) expectedMeans[(size_t)i * columns + j] = (float)(sums[j] / rows);
    launch(row_mean, dim3(blocks), dim3(128), x.data(), means.data(), rows, columns);
    passed &= report_same("row means", means, expectedMeans);
    launch(row_mean, dim3(blocks), dim3(128), x.data(), x.data(), rows, columns);
    return passed & report_same("row means in place", x, expectedMeans);
}

int main()
{
    bool passed = run(1, 1, 1) & run(7, 33, 1) & run(441, 512, 2) & run(13, 300, 1);
    return passed ? 0 : 1;
}
