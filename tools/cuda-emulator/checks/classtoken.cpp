// kernels/classtoken.cu against the sequence written out: class row first, then every patch token plus its grid
// row, for a few batches; launched as LaunchShapes.Elementwise.
#include "check.h"
#include "classtoken.cu"

static bool run(int batch, int patches, int width)
{
    Inputs inputs(31);
    std::vector<float> tokens = inputs.uniform((size_t)batch * patches * width), grid = inputs.uniform((size_t)patches * width);
    std::vector<float> cls = inputs.uniform(width), position = inputs.uniform(width);
    std::vector<double> x((size_t)batch * (1 + patches) * width);
    for (int b = 0; b < batch; b++)
        for (int t = 0; t <= patches; t++)
            for (int d = 0; d < width; d++)
                x[((size_t)b * (1 + patches) + t) * width + d] = t == 0 ? cls[d] + position[d]
                    : tokens[((size_t)b * patches + t - 1) * width + d] + grid[(size_t)(t - 1) * width + d];
    std::vector<float> out(x.size(), 99.0f);
    launch(class_token_sequence, elementwise((long long)out.size()), dim3(256), tokens.data(), grid.data(), cls.data(), position.data(), out.data(),
        batch, patches, width);
    std::printf("batch %d, %d patches, width %d\n", batch, patches, width);
    // One float addition, as the double of two floats rounds to: exact.
    return report("x", out, x, 0);
}

int main()
{
    bool passed = run(1, 1, 1) & run(2, 5, 7) & run(3, 196, 64);
    return passed ? 0 : 1;
}
