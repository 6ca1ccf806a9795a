// kernels/conv.cu in the order Conv2d.Cuda.cs runs it (bias fill, im2col, batched GEMM; bias gradient; dweight
// GEMMs; column gradients and col2im), with the GEMMs as check.h's cuBLAS stand-in, against the convolution and its
// gradients written out in double: k = 1 and 5, odd planes, with and without bias.
#include "check.h"
#include "conv.cu"

static bool run(int batch, int in_channels, int out_channels, int height, int width, int kernel, bool with_bias)
{
    Inputs inputs(17);
    int pad = kernel / 2, plane = height * width, depth = in_channels * kernel * kernel;
    std::vector<float> x = inputs.uniform((size_t)batch * in_channels * plane), weight = inputs.uniform((size_t)out_channels * depth);
    std::vector<float> bias = inputs.uniform(out_channels), dy = inputs.uniform((size_t)batch * out_channels * plane);
    std::vector<double> y(dy.size()), dx(x.size()), dweight(weight.size()), dbias(out_channels);
    for (int b = 0; b < batch; b++)
        for (int o = 0; o < out_channels; o++)
            for (int oy = 0; oy < height; oy++)
                for (int ox = 0; ox < width; ox++)
                {
                    size_t out = (((size_t)b * out_channels + o) * height + oy) * width + ox;
                    double sum = with_bias ? bias[o] : 0;
                    dbias[o] += dy[out];
                    for (int c = 0; c < in_channels; c++)
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int sy = oy + ky - pad, sx = ox + kx - pad;
                                if (sy < 0 || sy >= height || sx < 0 || sx >= width) continue;
                                size_t in = (((size_t)b * in_channels + c) * height + sy) * width + sx, w = (((size_t)o * in_channels + c) * kernel + ky) * kernel + kx;
                                sum += (double)weight[w] * x[in];
                                dx[in] += (double)weight[w] * dy[out];
                                dweight[w] += (double)x[in] * dy[out];
                            }
                    y[out] = sum;
                }

    // Forward, as ForwardCuda.
    std::vector<float> out_y(y.size(), 0.0f), columns((size_t)batch * depth * plane);
    if (with_bias) launch(conv_fill_bias, elementwise((long long)out_y.size()), dim3(256), out_y.data(), bias.data(), batch, out_channels, plane);
    const float* source = x.data();
    if (kernel != 1)
    {
        launch(conv_gather, elementwise((long long)columns.size()), dim3(256), x.data(), columns.data(), batch, in_channels, height, width, kernel);
        source = columns.data();
    }
    gemm_strided_batched(false, false, out_channels, plane, depth, 1, weight.data(), depth, 0, source, plane, (long long)depth * plane,
        with_bias ? 1 : 0, out_y.data(), plane, (long long)out_channels * plane, batch);
    // Backward, as BackwardCuda.
    std::vector<float> out_dbias(out_channels), out_dweight(weight.size()), out_dx(x.size()), gradients((size_t)batch * depth * plane);
    launch(conv_bias_gradient, dim3(out_channels), dim3(256), dy.data(), out_dbias.data(), batch, out_channels, plane);
    for (int b = 0; b < batch; b++)
        gemm(false, true, out_channels, depth, plane, 1, dy.data() + (size_t)b * out_channels * plane, plane, source + (size_t)b * depth * plane, plane,
            b == 0 ? 0 : 1, out_dweight.data(), depth);
    float* target = kernel == 1 ? out_dx.data() : gradients.data();
    gemm_strided_batched(true, false, depth, plane, out_channels, 1, weight.data(), depth, 0, dy.data(), plane, (long long)out_channels * plane,
        0, target, plane, (long long)depth * plane, batch);
    if (kernel != 1)
        launch(conv_scatter, elementwise((long long)out_dx.size()), dim3(256), gradients.data(), out_dx.data(), batch, in_channels, height, width, kernel);

    std::printf("batch %d, %d -> %d channels, %dx%d, kernel %d, bias %d\n", batch, in_channels, out_channels, height, width, kernel, with_bias);
    // Sums of ≤ 25·Cin products of O(1) in float against double; dbias and dweight sum over B·H·W terms.
    return report("y", out_y, y) & report("dx", out_dx, dx) & report("dweight", out_dweight, dweight) & report("dbias", out_dbias, dbias);
}

int main()
{
    bool passed = run(2, 3, 4, 5, 7, 5, true) & run(1, 7, 3, 9, 9, 5, false) & run(2, 6, 5, 4, 3, 1, true) & run(1, 20, 20, 21, 21, 5, true);
    return passed ? 0 : 1;
}
