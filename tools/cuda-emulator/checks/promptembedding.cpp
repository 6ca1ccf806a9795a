// kernels/promptembedding.cu against the prompt layout written out: SOT, M context vectors, the class's slot
// tokens, plus positions; the context gradient summed over the classes. Launched as LaunchShapes.Elementwise.
#include "check.h"
#include "promptembedding.cu"

static bool run(int classes, int context_count, int slot_count, int width, int vocabulary)
{
    Inputs inputs(5);
    int length = 1 + context_count + slot_count, start = vocabulary - 1;
    std::vector<float> embedding = inputs.uniform((size_t)vocabulary * width), context = inputs.uniform((size_t)context_count * width);
    std::vector<float> positional = inputs.uniform((size_t)length * width), dx = inputs.uniform((size_t)classes * length * width);
    std::vector<int> slots((size_t)classes * slot_count);
    for (size_t i = 0; i < slots.size(); i++) slots[i] = (int)((i * 13 + 1) % vocabulary);
    std::vector<double> x(dx.size()), d_context(context.size(), 0.0);
    for (int c = 0; c < classes; c++)
        for (int l = 0; l < length; l++)
            for (int w = 0; w < width; w++)
            {
                float token = l == 0 ? embedding[(size_t)start * width + w] : l <= context_count ? context[(size_t)(l - 1) * width + w]
                    : embedding[(size_t)slots[(size_t)c * slot_count + l - 1 - context_count] * width + w];
                x[((size_t)c * length + l) * width + w] = (double)token + positional[(size_t)l * width + w];
                if (l >= 1 && l <= context_count) d_context[(size_t)(l - 1) * width + w] += dx[((size_t)c * length + l) * width + w];
            }
    std::vector<float> out_x(x.size()), out_dc(d_context.size());
    launch(prompt_embedding_forward, elementwise((long long)x.size()), dim3(256), embedding.data(), context.data(), slots.data(), positional.data(),
        out_x.data(), classes, context_count, slot_count, width, start);
    launch(prompt_embedding_backward, elementwise((long long)d_context.size()), dim3(256), dx.data(), out_dc.data(), classes, length, context_count, width);
    std::printf("%d classes, %d context vectors, %d slots, width %d\n", classes, context_count, slot_count, width);
    // One float addition per element in the forward; the backward sums ≤ 20 terms of O(1) in float.
    return report("x", out_x, x, 1e-7) & report("d_context", out_dc, d_context, 1e-5);
}

int main()
{
    bool passed = run(1, 1, 1, 3, 10) & run(3, 4, 3, 5, 40) & run(20, 12, 3, 64, 500);
    return passed ? 0 : 1;
}
