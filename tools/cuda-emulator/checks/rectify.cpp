// kernels/rectify.cu against Rectify.Reference / BackwardReference (src/Kernels/Ops/Rectify.cs) written out in double:
// rect = q - P R^T per image, G = sum over the batch of dRect, dP = -G R and dR = -G^T P, with every size off the 16 x 16
// tiles, one at exactly a tile, and each gradient skipped in turn (the launcher's null dp / dr).
#include "check.h"
#include "rectify.cu"

#include <limits>

// gradients: 1 dP only, 2 dR only, 3 both.
struct Case { int batch, patches, classes, width, gradients; };

static unsigned tiles(int count) { return (unsigned)((count + RECTIFY_TILE - 1) / RECTIFY_TILE); }

static bool run(const Case& c)
{
    Inputs inputs(37);
    size_t plane = (size_t)c.patches * c.classes;
    std::vector<float> q = inputs.uniform(c.batch * plane, -2, 2), p = inputs.uniform((size_t)c.patches * c.width, -1, 1);
    std::vector<float> r = inputs.uniform((size_t)c.classes * c.width, -1, 1), d_rect = inputs.uniform(c.batch * plane, -1, 1);

    std::vector<double> expected_rect(c.batch * plane), summed(plane), expected_dp((size_t)c.patches * c.width), expected_dr((size_t)c.classes * c.width);
    for (int n = 0; n < c.patches; n++)
        for (int k = 0; k < c.classes; k++)
        {
            double bias = 0;
            for (int e = 0; e < c.width; e++) bias += (double)p[(size_t)n * c.width + e] * r[(size_t)k * c.width + e];
            for (int b = 0; b < c.batch; b++)
            {
                size_t at = ((size_t)b * c.patches + n) * c.classes + k;
                expected_rect[at] = q[at] - bias;
            }
        }
    for (int b = 0; b < c.batch; b++)
        for (size_t i = 0; i < plane; i++) summed[i] += d_rect[b * plane + i];
    for (int n = 0; n < c.patches; n++)
        for (int e = 0; e < c.width; e++)
        {
            double sum = 0;
            for (int k = 0; k < c.classes; k++) sum += summed[(size_t)n * c.classes + k] * r[(size_t)k * c.width + e];
            expected_dp[(size_t)n * c.width + e] = -sum;
        }
    for (int k = 0; k < c.classes; k++)
        for (int e = 0; e < c.width; e++)
        {
            double sum = 0;
            for (int n = 0; n < c.patches; n++) sum += summed[(size_t)n * c.classes + k] * p[(size_t)n * c.width + e];
            expected_dr[(size_t)k * c.width + e] = -sum;
        }

    // As Rectify.ForwardCuda: grid (tiles of C, tiles of N), block 16 x 16.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> rect(c.batch * plane, nan);
    launch(rectify_forward, dim3(tiles(c.classes), tiles(c.patches)), dim3(RECTIFY_TILE, RECTIFY_TILE), (const float*)q.data(), (const float*)p.data(),
        (const float*)r.data(), rect.data(), c.batch, c.patches, c.classes, c.width);

    // As Rectify.BackwardCuda: G into an uninitialised scratch over Cover(plane, 256), then the negated GEMM for dP
    // (A = G with strides (C, 1), K = C, B = R) and for dR (A = G^T: strides (1, C), K = N, B = P), each when wanted.
    std::vector<float> scratch(std::max<size_t>(plane, 1), nan), dp((size_t)c.patches * c.width, nan), dr((size_t)c.classes * c.width, nan);
    launch(rectify_batch_sum, dim3(std::max<size_t>(1, (plane + 255) / 256)), dim3(256), (const float*)d_rect.data(), scratch.data(), c.batch,
        (long long)plane);
    std::vector<float> out_summed(scratch.begin(), scratch.begin() + plane);
    if (c.gradients & 1)
        launch(rectify_gemm_negated, dim3(tiles(c.width), tiles(c.patches)), dim3(RECTIFY_TILE, RECTIFY_TILE), (const float*)scratch.data(),
            (long long)c.classes, 1LL, (const float*)r.data(), dp.data(), c.patches, c.classes, c.width);
    if (c.gradients & 2)
        launch(rectify_gemm_negated, dim3(tiles(c.width), tiles(c.classes)), dim3(RECTIFY_TILE, RECTIFY_TILE), (const float*)scratch.data(),
            1LL, (long long)c.classes, (const float*)p.data(), dr.data(), c.classes, c.patches, c.width);

    std::printf("batch %d, %d patches, %d classes, width %d, gradients %s\n", c.batch, c.patches, c.classes, c.width,
        c.gradients == 3 ? "dP and dR" : c.gradients == 1 ? "dP only" : "dR only");
    std::vector<double> untouched_dp(dp.size(), std::numeric_limits<double>::quiet_NaN()), untouched_dr(dr.size(), untouched_dp[0]);
    bool passed = report("rect", rect, expected_rect) & report("G = sum over the batch of dRect", out_summed, summed);
    passed &= report(c.gradients & 1 ? "dP" : "dP (not requested: untouched)", dp, c.gradients & 1 ? expected_dp : untouched_dp);
    passed &= report(c.gradients & 2 ? "dR" : "dR (not requested: untouched)", dr, c.gradients & 2 ? expected_dr : untouched_dr);
    return passed;
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 1, 1, 1, 3 });       // one of everything
    passed &= run({ 2, 7, 5, 17, 3 });      // width one past a tile
    passed &= run({ 3, 33, 21, 16, 1 });    // width exactly a tile; dP only
    passed &= run({ 1, 16, 33, 40, 2 });    // patches exactly a tile, classes two past; dR only
    passed &= run({ 2, 20, 171, 37, 3 });   // the most classes (171): 11 class tiles
    passed &= run({ 2, 49, 21, 512, 3 });   // ViT-B/32's 7 x 7 patches, VOC's classes, the real width 512
    return passed ? 0 : 1;
}
