// kernels/maskedpoolingloss.cu in the order MaskedPoolingLoss.Cuda.cs runs it, the GEMMs as check.h's cuBLAS
// stand-in, against the loss of spec §7 and its mask gradient written out in double.
#include "check.h"
#include "maskedpoolingloss.cu"

static bool run(int patches, int class_count, int width, std::vector<int> classes)
{
    Inputs inputs(29);
    int count = (int)classes.size();
    const float scale = 100.0f, grad_loss = 0.5f;
    std::vector<float> features = inputs.uniform((size_t)patches * width, -0.2f, 0.2f), mask = inputs.uniform((size_t)patches * class_count, 0, 1);
    std::vector<float> text = inputs.uniform((size_t)class_count * width, -0.2f, 0.2f);
    // Reference: pooled p_s, logits z_s, softmax, mean CE over the hypothesis, and dmask.
    std::vector<double> probabilities((size_t)count * class_count), d_mask((size_t)patches * class_count, 0.0);
    double loss = 0;
    for (int s = 0; s < count; s++)
    {
        std::vector<double> pooled(width, 0.0), z(class_count), d_pooled(width, 0.0);
        for (int n = 0; n < patches; n++)
            for (int e = 0; e < width; e++) pooled[e] += (double)mask[(size_t)n * class_count + classes[s]] * features[(size_t)n * width + e] / patches;
        double high = -1e300, sum = 0;
        for (int c = 0; c < class_count; c++)
        {
            double dot = 0;
            for (int e = 0; e < width; e++) dot += pooled[e] * text[(size_t)c * width + e];
            z[c] = scale * dot;
            high = std::max(high, z[c]);
        }
        for (int c = 0; c < class_count; c++) sum += std::exp(z[c] - high);
        loss += high + std::log(sum) - z[classes[s]];
        for (int c = 0; c < class_count; c++)
        {
            double p = std::exp(z[c] - high) / sum;
            probabilities[(size_t)s * class_count + c] = p;
            double dz = grad_loss / count * (p - (c == classes[s] ? 1 : 0));
            for (int e = 0; e < width; e++) d_pooled[e] += scale * dz * text[(size_t)c * width + e];
        }
        for (int n = 0; n < patches; n++)
        {
            double dot = 0;
            for (int e = 0; e < width; e++) dot += features[(size_t)n * width + e] * d_pooled[e];
            d_mask[(size_t)n * class_count + classes[s]] = dot / patches;
        }
    }
    loss /= count;

    // Forward, as ForwardCuda.
    std::vector<float> columns((size_t)patches * count), pooled((size_t)count * width), out_p((size_t)count * class_count), losses(count);
    launch(pooling_gather_columns, elementwise((long long)patches * count), dim3(256), mask.data(), classes.data(), columns.data(), patches, class_count, count);
    gemm(true, false, count, width, patches, 1.0f / patches, columns.data(), count, features.data(), width, 0, pooled.data(), width);
    gemm(false, true, count, class_count, width, scale, pooled.data(), width, text.data(), width, 0, out_p.data(), class_count);
    launch(pooling_softmax_loss, dim3((count + 7) / 8), dim3(256), out_p.data(), classes.data(), losses.data(), count, class_count);
    double total = 0;
    for (float l : losses) total += l;
    std::vector<float> out_loss { (float)(total / count) };
    // The same loss added twice to a running double on the device, as AccumulateCuda does for two images: the host's
    // sum of the same floats, bit for bit.
    double running = 0.25;
    launch(pooling_loss_accumulate, dim3(1), dim3(1), losses.data(), count, &running);
    launch(pooling_loss_accumulate, dim3(1), dim3(1), losses.data(), count, &running);
    std::vector<double> accumulated { running }, expected_accumulated { 0.25 + (double)out_loss[0] + (double)out_loss[0] };
    // Backward, as BackwardCuda.
    std::vector<int> slot(class_count, -1);
    for (int s = 0; s < count; s++) slot[classes[s]] = s;
    std::vector<float> d_logits((size_t)count * class_count), d_pooled((size_t)count * width), d_columns((size_t)patches * count), out_dm(d_mask.size(), 99.0f);
    launch(pooling_logit_gradient, elementwise((long long)count * class_count), dim3(256), out_p.data(), classes.data(), d_logits.data(), count, class_count);
    gemm(false, false, count, width, class_count, scale * grad_loss / count, d_logits.data(), class_count, text.data(), width, 0, d_pooled.data(), width);
    gemm(false, true, patches, count, width, 1.0f / patches, features.data(), width, d_pooled.data(), width, 0, d_columns.data(), count);
    launch(pooling_scatter_columns, elementwise((long long)out_dm.size()), dim3(256), d_columns.data(), slot.data(), out_dm.data(), patches, class_count, count);

    std::printf("%d patches, %d classes, width %d, %d in the hypothesis\n", patches, class_count, width, count);
    // Logits up to ~scale·0.04·width: float softmax and exp carry ~1e-6 relative error on them.
    return report("loss", out_loss, { loss }) & report_same("accumulated loss", accumulated, expected_accumulated)
        & report("probabilities", out_p, probabilities) & report("dmask", out_dm, d_mask);
}

int main()
{
    bool passed = run(7, 5, 3, { 4, 1 }) & run(441, 20, 64, { 0, 7, 19, 3 }) & run(33, 59, 17, { 58 });
    return passed ? 0 : 1;
}
