// kernels/patchembedding.cu and the GEMM after it (PatchEmbedding.Forward runs MatMul.Linear; check.h's cuBLAS stand-in), against
// the patch convolution written out in double, with images that are and are not multiples of the patch; the bfloat16
// gather against the float32 one rounded, element for element.
#include "check.h"
#include "patchembedding.cu"

static bool run(int batch, int channels, int height, int width, int dim, int patch)
{
    Inputs inputs(19);
    int rows = (height + patch - 1) / patch, columns = (width + patch - 1) / patch, depth = channels * patch * patch;
    std::vector<float> image = inputs.uniform((size_t)batch * channels * height * width), weight = inputs.uniform((size_t)dim * depth);
    std::vector<double> tokens((size_t)batch * rows * columns * dim);
    for (int b = 0; b < batch; b++)
        for (int py = 0; py < rows; py++)
            for (int px = 0; px < columns; px++)
                for (int d = 0; d < dim; d++)
                {
                    double sum = 0;
                    for (int c = 0; c < channels; c++)
                        for (int ky = 0; ky < patch; ky++)
                            for (int kx = 0; kx < patch; kx++)
                            {
                                int y = py * patch + ky, x = px * patch + kx;
                                if (y < height && x < width)
                                    sum += (double)weight[(((size_t)d * channels + c) * patch + ky) * patch + kx] * image[(((size_t)b * channels + c) * height + y) * width + x];
                            }
                    tokens[(((size_t)b * rows + py) * columns + px) * dim + d] = sum;
                }
    int patches = batch * rows * columns;
    std::vector<float> gathered((size_t)patches * depth, 99.0f), out(tokens.size());
    launch(patch_gather, elementwise((long long)gathered.size()), dim3(256), image.data(), gathered.data(), batch, channels, height, width, patch);
    gemm(false, true, patches, dim, depth, 1, gathered.data(), depth, weight.data(), depth, 0, out.data(), dim);
    std::vector<unsigned short> gathered_bfloat16(gathered.size(), 0xffffu);
    launch(patch_gather_bf16, elementwise((long long)gathered.size()), dim3(256), image.data(), gathered_bfloat16.data(), batch, channels, height,
        width, patch);
    std::printf("batch %d, %d channels, %dx%d, dim %d, patch %d\n", batch, channels, height, width, dim, patch);
    return report("tokens", out, tokens) & report_rounded("patches in bfloat16", gathered_bfloat16, gathered);
}

int main()
{
    bool passed = run(2, 3, 32, 48, 8, 16) & run(1, 3, 37, 21, 5, 16) & run(1, 2, 5, 7, 3, 4);
    return passed ? 0 : 1;
}
