// kernels/tokenembedding.cu against the lookup written out: rows of the table plus positions from an offset, for a
// few batches of ids; launched as LaunchShapes.Elementwise.
#include "check.h"
#include "tokenembedding.cu"

static bool run(int batch, int tokens, int width, int first)
{
    Inputs inputs(37);
    const int vocabulary = 50, positions = 20;
    std::vector<float> table = inputs.uniform((size_t)vocabulary * width), positional = inputs.uniform((size_t)positions * width);
    std::vector<int> ids((size_t)batch * tokens);
    for (size_t i = 0; i < ids.size(); i++) ids[i] = (int)((i * 17 + 3) % vocabulary);
    std::vector<double> x(ids.size() * width);
    for (size_t r = 0; r < ids.size(); r++)
        for (int w = 0; w < width; w++)
            x[r * width + w] = table[(size_t)ids[r] * width + w] + positional[(size_t)(first + r % tokens) * width + w];
    std::vector<float> out(x.size(), 99.0f);
    launch(token_embedding, elementwise((long long)out.size()), dim3(256), table.data(), ids.data(), positional.data(), out.data(),
        (int)ids.size(), tokens, width, first);
    std::printf("batch %d, %d tokens from position %d, width %d\n", batch, tokens, first, width);
    // One float addition, as the float sum the reference holds: exact.
    return report("x", out, x, 0);
}

int main()
{
    bool passed = run(1, 1, 1, 0) & run(3, 7, 5, 2) & run(4, 3, 64, 17);
    return passed ? 0 : 1;
}
