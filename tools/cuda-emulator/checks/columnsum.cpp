// kernels/columnsum.cu against the sums written out in the same order (double, row by row, rounded once): the same
// floats, as the CPU gives; more columns than threads so that the grid-stride loop runs.
#include "check.h"
#include "columnsum.cu"

static bool run(int rows, int columns, unsigned blocks)
{
    Inputs inputs(11);
    std::vector<float> x = inputs.uniform((size_t)rows * columns), y(columns, 99.0f), expected(columns);
    for (int j = 0; j < columns; j++)
    {
        double sum = 0.0;
        for (int i = 0; i < rows; i++) sum += x[(size_t)i * columns + j];
        expected[j] = (float)sum;
    }
    launch(column_sum, dim3(blocks), dim3(128), x.data(), y.data(), rows, columns);
    std::printf("%d x %d in %u blocks\n", rows, columns, blocks);
    return report_same("y", y, expected);
}

int main()
{
    bool passed = run(1, 1, 1) & run(7, 33, 1) & run(441, 512, 2) & run(13, 300, 1);
    return passed ? 0 : 1;
}
