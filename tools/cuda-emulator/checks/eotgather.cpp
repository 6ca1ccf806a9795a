// kernels/eotgather.cu against the gather and its scatter written out: a few classes, odd widths, launched as
// LaunchShapes.Elementwise.
#include "check.h"
#include "eotgather.cu"

static bool run(int classes, int length, int width)
{
    Inputs inputs(3);
    std::vector<float> x = inputs.uniform((size_t)classes * length * width), dy = inputs.uniform((size_t)classes * width);
    std::vector<int> indices(classes);
    for (int c = 0; c < classes; c++) indices[c] = (c * 7 + 3) % length;
    std::vector<double> y(dy.size()), dx(x.size(), 0.0);
    for (int c = 0; c < classes; c++)
        for (int w = 0; w < width; w++)
        {
            y[(size_t)c * width + w] = x[((size_t)c * length + indices[c]) * width + w];
            dx[((size_t)c * length + indices[c]) * width + w] = dy[(size_t)c * width + w];
        }
    std::vector<float> out_y(y.size()), out_dx(dx.size(), 99.0f);
    launch(eot_gather_forward, elementwise((long long)classes * width), dim3(256), x.data(), indices.data(), out_y.data(), classes, length, width);
    launch(eot_gather_backward, elementwise((long long)x.size()), dim3(256), dy.data(), indices.data(), out_dx.data(), classes, length, width);
    std::printf("%d classes, length %d, width %d\n", classes, length, width);
    return report("y", out_y, y, 0) & report("dx", out_dx, dx, 0);
}

int main()
{
    bool passed = run(1, 1, 1) & run(3, 7, 5) & run(20, 77, 64);
    return passed ? 0 : 1;
}
