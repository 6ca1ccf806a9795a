// kernels/resize.cu with the taps ResizeTaps (src/Kernels/Ops/SeparableResize.cs) computes, against the 2-D
// definition in double: bicubic (A = −0.75) and bilinear, align_corners=False, channels first and channels last,
// up, down, to 1×1 and identity.
#include "check.h"
#include "resize.cu"

static float source_coordinate(int destination, int in, int out) { return (float)in / out * (destination + 0.5f) - 0.5f; }

static double cubic(double distance)
{
    const double a = -0.75;
    double d = std::abs(distance);
    return d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
}

struct Taps { int count; std::vector<int> index; std::vector<float> weight; };

static Taps taps_for(bool bicubic, int in, int out)
{
    Taps t { bicubic ? 4 : 2, {}, {} };
    for (int o = 0; o < out; o++)
    {
        float x = source_coordinate(o, in, out);
        if (bicubic)
        {
            int floor = (int)std::floor(x);
            for (int i = 0; i < 4; i++)
            {
                t.index.push_back(std::clamp(floor - 1 + i, 0, in - 1));
                t.weight.push_back((float)cubic(x - floor - (i - 1)));
            }
        }
        else
        {
            x = std::max(x, 0.0f);
            int first = std::min((int)x, in - 1);
            float lambda = std::clamp(x - first, 0.0f, 1.0f);
            t.index.push_back(first);
            t.index.push_back(first < in - 1 ? first + 1 : first);
            t.weight.push_back(1 - lambda);
            t.weight.push_back(lambda);
        }
    }
    return t;
}

static bool run(bool bicubic, bool channels_last, int planes, int h, int w, int out_h, int out_w)
{
    Inputs inputs(11);
    std::vector<float> x = inputs.uniform((size_t)planes * h * w);
    Taps rows = taps_for(bicubic, h, out_h), columns = taps_for(bicubic, w, out_w);
    std::vector<double> y((size_t)planes * out_h * out_w);
    for (int p = 0; p < planes; p++)
        for (int oy = 0; oy < out_h; oy++)
            for (int ox = 0; ox < out_w; ox++)
            {
                double sum = 0;
                for (int i = 0; i < rows.count; i++)
                    for (int j = 0; j < columns.count; j++)
                    {
                        int iy = rows.index[oy * rows.count + i], ix = columns.index[ox * columns.count + j];
                        double value = channels_last ? x[((size_t)iy * w + ix) * planes + p] : x[((size_t)p * h + iy) * w + ix];
                        sum += (double)rows.weight[oy * rows.count + i] * columns.weight[ox * columns.count + j] * value;
                    }
                y[channels_last ? ((size_t)oy * out_w + ox) * planes + p : ((size_t)p * out_h + oy) * out_w + ox] = sum;
            }
    // The CPU path's roundings in float (SeparableResize.cs): along x from 0, tap by tap, then along y from the first term.
    std::vector<float> cpu(y.size());
    for (int p = 0; p < planes; p++)
        for (int oy = 0; oy < out_h; oy++)
            for (int ox = 0; ox < out_w; ox++)
            {
                float total = 0;
                for (int i = 0; i < rows.count; i++)
                {
                    float inner = 0;
                    for (int j = 0; j < columns.count; j++)
                    {
                        int iy = rows.index[oy * rows.count + i], ix = columns.index[ox * columns.count + j];
                        float value = channels_last ? x[((size_t)iy * w + ix) * planes + p] : x[((size_t)p * h + iy) * w + ix];
                        inner = inner + columns.weight[ox * columns.count + j] * value;
                    }
                    float term = rows.weight[oy * rows.count + i] * inner;
                    total = i == 0 ? term : term + total;
                }
                cpu[channels_last ? ((size_t)oy * out_w + ox) * planes + p : ((size_t)p * out_h + oy) * out_w + ox] = total;
            }
    std::vector<float> out(y.size());
    launch(resize_separable, elementwise((long long)out.size()), dim3(256), x.data(), out.data(), rows.index.data(), rows.weight.data(),
        columns.index.data(), columns.weight.data(), rows.count, planes, h, w, out_h, out_w, channels_last ? 1 : 0);
    std::printf("%s, %s, %d planes, %dx%d -> %dx%d\n", bicubic ? "bicubic" : "bilinear", channels_last ? "channels last" : "channels first", planes, h, w, out_h, out_w);
    // ≤ 16 products of O(1) in float against double: a few ulps; against the CPU path's float roundings: none.
    return report("y", out, y, 1e-5) & report_same("y against the CPU path's roundings", out, cpu);
}

int main()
{
    bool passed = true;
    for (bool bicubic : { true, false })
        for (bool channels_last : { false, true })
            passed &= run(bicubic, channels_last, 3, 5, 7, 9, 4) & run(bicubic, channels_last, 5, 3, 4, 1, 1)
                & run(bicubic, channels_last, 17, 14, 14, 21, 28) & run(bicubic, channels_last, 2, 6, 6, 6, 6);
    return passed ? 0 : 1;
}
