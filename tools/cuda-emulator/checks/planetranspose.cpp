// kernels/planetranspose.cu against the transpose written out: whole planes, and a window of channels inside a wider
// plane (the mask decoder's input) whose other channels must keep their values; launched as PlaneTranspose.Cuda.cs
// does, with a small grid z so that the planes' grid-stride loop runs too.
#include "check.h"
#include "planetranspose.cu"

static bool run(int planes, int rows, int columns, unsigned grid_z)
{
    const int margin = 3, wide = columns + 2 * margin;
    const float sentinel = 7.0f;
    Inputs inputs(5);
    std::vector<float> source = inputs.uniform((size_t)planes * rows * columns);
    std::vector<float> transposed((size_t)planes * columns * rows), window((size_t)planes * wide * rows, sentinel), back(source.size());
    std::vector<float> expected_window(window.size(), sentinel);
    for (int p = 0; p < planes; p++)
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                expected_window[((size_t)p * wide + margin + j) * rows + i] = source[((size_t)p * rows + i) * columns + j];
    std::vector<float> expected_transposed(transposed.size());
    for (int p = 0; p < planes; p++)
        for (int j = 0; j < columns; j++)
            for (int i = 0; i < rows; i++)
                expected_transposed[((size_t)p * columns + j) * rows + i] = source[((size_t)p * rows + i) * columns + j];
    dim3 grid((columns + 31) / 32, (rows + 31) / 32, grid_z), block(32, 8);
    launch(plane_transpose, grid, block, source.data(), transposed.data(), planes, rows, columns,
        (long long)rows * columns, (long long)columns, (long long)columns * rows, (long long)rows);
    launch(plane_transpose, grid, block, source.data(), window.data() + (size_t)margin * rows, planes, rows, columns,
        (long long)rows * columns, (long long)columns, (long long)wide * rows, (long long)rows);
    // Back out of the window: its planes are [C, R] at the wide plane stride.
    dim3 back_grid((rows + 31) / 32, (columns + 31) / 32, grid_z);
    launch(plane_transpose, back_grid, block, window.data() + (size_t)margin * rows, back.data(), planes, columns, rows,
        (long long)wide * rows, (long long)rows, (long long)rows * columns, (long long)columns);
    std::printf("%d planes of %d x %d, grid z %u\n", planes, rows, columns, grid_z);
    return report_same("y", transposed, expected_transposed) & report_same("y into channels", window, expected_window)
        & report_same("x from channels", back, source);
}

int main()
{
    bool passed = run(1, 1, 1, 1) & run(3, 33, 65, 3) & run(5, 41, 20, 2) & run(2, 64, 96, 2);
    return passed ? 0 : 1;
}
