// kernels/maskedpoolingloss.cu in the order MaskedPoolingLoss.Cuda.cs runs it, and its batch_ kernels in the order
// MaskedPoolingLossBatch.Cuda.cs runs them, the GEMMs as check.h's cuBLAS stand-in, against the loss of spec §7 and its
// mask gradient written out in double.
#include "check.h"
#include "maskedpoolingloss.cu"

static const float scale = 100.0f, grad_loss = 0.5f;

// One image's loss (0 for an empty hypothesis), its probabilities [|S|, C] and its dmask [N, C] (grad_loss·∂L/∂mask).
static double reference(int patches, int class_count, int width, const float* features, const float* mask, const float* text,
    const std::vector<int>& classes, std::vector<double>& probabilities, std::vector<double>& d_mask)
{
    int count = (int)classes.size();
    probabilities.assign((size_t)count * class_count, 0.0);
    d_mask.assign((size_t)patches * class_count, 0.0);
    if (count == 0) return 0;
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
    return loss / count;
}

static bool run(int patches, int class_count, int width, std::vector<int> classes)
{
    Inputs inputs(29);
    int count = (int)classes.size();
    std::vector<float> features = inputs.uniform((size_t)patches * width, -0.2f, 0.2f), mask = inputs.uniform((size_t)patches * class_count, 0, 1);
    std::vector<float> text = inputs.uniform((size_t)class_count * width, -0.2f, 0.2f);
    std::vector<double> probabilities, d_mask;
    double loss = reference(patches, class_count, width, features.data(), mask.data(), text.data(), classes, probabilities, d_mask);

    // Forward, as ForwardCuda.
    std::vector<float> columns((size_t)patches * count), pooled((size_t)count * width), out_p((size_t)count * class_count), losses(count);
    launch(pooling_gather_columns, elementwise((long long)patches * count), dim3(256), mask.data(), classes.data(), columns.data(), patches, class_count, count);
    gemm(true, false, count, width, patches, 1.0f / patches, columns.data(), count, features.data(), width, 0, pooled.data(), width);
    gemm(false, true, count, class_count, width, scale, pooled.data(), width, text.data(), width, 0, out_p.data(), class_count);
    launch(pooling_softmax_loss, dim3((count + 7) / 8), dim3(256), out_p.data(), classes.data(), losses.data(), count, class_count);
    double total = 0;
    for (float l : losses) total += l;
    std::vector<float> out_loss { (float)(total / count) };
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
    return report("loss", out_loss, { loss }) & report("probabilities", out_p, probabilities) & report("dmask", out_dm, d_mask);
}

// A batch through the batch_ kernels: the sum of the images' reference losses (an empty hypothesis adds 0), and every
// image's dmask with its columns outside the hypothesis exactly 0.
static bool run_batch(int patches, int class_count, int width, const std::vector<std::vector<int>>& hypotheses)
{
    Inputs inputs(31);
    int batch = (int)hypotheses.size(), rows = batch * class_count;
    std::vector<float> features = inputs.uniform((size_t)batch * patches * width, -0.2f, 0.2f);
    std::vector<float> mask = inputs.uniform((size_t)batch * patches * class_count, 0, 1), text = inputs.uniform((size_t)class_count * width, -0.2f, 0.2f);
    std::vector<int> members(rows, 0);
    std::vector<double> expected_mask((size_t)batch * patches * class_count), probabilities, d_mask;
    double expected_total = 0.25;
    for (int b = 0; b < batch; b++)
    {
        for (int c : hypotheses[b]) members[b * class_count + c] = 1;
        double loss = reference(patches, class_count, width, features.data() + (size_t)b * patches * width, mask.data() + (size_t)b * patches * class_count,
            text.data(), hypotheses[b], probabilities, d_mask);
        expected_total += (float)loss;
        std::copy(d_mask.begin(), d_mask.end(), expected_mask.begin() + (size_t)b * patches * class_count);
    }
    std::vector<float> pooled((size_t)rows * width), logits((size_t)rows * class_count), losses(rows), scales(batch);
    std::vector<float> d_logits((size_t)rows * class_count), d_pooled((size_t)rows * width), out_dm(expected_mask.size(), 99.0f);
    double total = 0.25;
    gemm_strided_batched(true, false, class_count, width, patches, 1.0f / patches, mask.data(), class_count, (long long)patches * class_count,
        features.data(), width, (long long)patches * width, 0, pooled.data(), width, (long long)class_count * width, batch);
    gemm(false, true, rows, class_count, width, scale, pooled.data(), width, text.data(), width, 0, logits.data(), class_count);
    launch(pooling_batch_softmax_loss, dim3((rows + 7) / 8), dim3(256), logits.data(), members.data(), losses.data(), rows, class_count);
    launch(pooling_batch_total, dim3(1), dim3(1), losses.data(), members.data(), batch, class_count, grad_loss, scales.data(), &total);
    launch(pooling_batch_logit_gradient, elementwise((long long)rows * class_count), dim3(256), logits.data(), members.data(), scales.data(),
        d_logits.data(), batch, class_count);
    gemm(false, false, rows, width, class_count, scale, d_logits.data(), class_count, text.data(), width, 0, d_pooled.data(), width);
    gemm_strided_batched(false, true, patches, class_count, width, 1.0f / patches, features.data(), width, (long long)patches * width,
        d_pooled.data(), width, (long long)class_count * width, 0, out_dm.data(), class_count, (long long)patches * class_count, batch);
    size_t stray = 0;
    for (int b = 0; b < batch; b++)
        for (int n = 0; n < patches; n++)
            for (int c = 0; c < class_count; c++)
                stray += !members[b * class_count + c] && out_dm[((size_t)b * patches + n) * class_count + c] != 0.0f;
    std::printf("a batch of %d: %d patches, %d classes, width %d\n", batch, patches, class_count, width);
    std::printf("  %-48s %zu%s\n", "dmask outside the hypotheses not 0", stray, stray ? "  <-- wrong" : "");
    std::vector<float> out_total { (float)total };
    return report("batch loss", out_total, { expected_total }) & report("batch dmask", out_dm, expected_mask) & stray == 0;
}

int main()
{
    bool passed = run(7, 5, 3, { 4, 1 }) & run(441, 20, 64, { 0, 7, 19, 3 }) & run(33, 59, 17, { 58 })
        & run_batch(7, 5, 3, { { 4, 1 }, {}, { 0 } }) & run_batch(441, 20, 64, { { 0, 7, 19, 3 }, { 12 } });
    return passed ? 0 : 1;
}
