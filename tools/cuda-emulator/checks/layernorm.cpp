// kernels/layernorm.cu against LayerNorm.Reference / BackwardReference (src/Kernels/Ops/LayerNorm.cs) written out in
// double: y, the saved mean and rstd (or null pointers for them), dx, and dgamma / dbeta (both, one, or neither launched,
// as the launcher does), in place (y = x, dx = dy) and out of place, y in bfloat16, on rows
// with a large common offset (the two-pass variance must not cancel).
#include "check.h"
#include "layernorm.cu"

#include <limits>

// center: added to every x (a row mean far from 0); saved: 0 passes null mean / rstd to the forward (the backward then
// gets the reference statistics); parameters: 0 none, 1 dgamma only, 2 dbeta only, 3 both.
struct Case { int rows, width; float eps, center; int in_place, saved, parameters; };

static bool run(const Case& c)
{
    Inputs inputs(29);
    size_t count = (size_t)c.rows * c.width;
    std::vector<float> x = inputs.uniform(count, -2, 2), gamma = inputs.uniform(c.width, 0.5f, 1.5f), beta = inputs.uniform(c.width, -0.5f, 0.5f);
    std::vector<float> dy = inputs.uniform(count, -1, 1);
    for (float& value : x) value += c.center;
    std::vector<float> x0 = x, dy0 = dy;

    std::vector<double> expected_y(count), expected_mean(c.rows), expected_rstd(c.rows);
    for (int r = 0; r < c.rows; r++)
    {
        const float* row = &x0[(size_t)r * c.width];
        double mu = 0, variance = 0;
        for (int i = 0; i < c.width; i++) mu += row[i];
        mu /= c.width;
        for (int i = 0; i < c.width; i++) variance += (row[i] - mu) * (row[i] - mu);
        double inverse = 1 / std::sqrt(variance / c.width + c.eps);
        for (int i = 0; i < c.width; i++) expected_y[(size_t)r * c.width + i] = (row[i] - mu) * inverse * gamma[i] + beta[i];
        expected_mean[r] = mu;
        expected_rstd[r] = inverse;
    }

    // As LayerNorm.ForwardCuda: 8 rows per block of 256 threads; y may be x. The bfloat16 form first, while x is intact.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> y_store(count, nan), mean(c.rows, nan), rstd(c.rows, nan);
    std::vector<unsigned short> y_bfloat16(count, 0xffffu);
    float* y = c.in_place ? x.data() : y_store.data();
    dim3 rows_grid((c.rows + 7) / 8);
    // Both keep a copy of x (in place, before y overwrites it).
    std::vector<float> kept_bfloat16(count, nan), kept(count, nan);
    launch(layernorm_forward_bf16, rows_grid, dim3(256), (const float*)x.data(), (const float*)gamma.data(), (const float*)beta.data(),
        y_bfloat16.data(), (float*)nullptr, (float*)nullptr, kept_bfloat16.data(), c.rows, c.width, c.eps);
    launch(layernorm_forward, rows_grid, dim3(256), (const float*)x.data(), (const float*)gamma.data(), (const float*)beta.data(), y,
        c.saved ? mean.data() : (float*)nullptr, c.saved ? rstd.data() : (float*)nullptr, kept.data(), c.rows, c.width, c.eps);
    std::vector<float> out_y(y, y + count);
    if (!c.saved)
        for (int r = 0; r < c.rows; r++) { mean[r] = (float)expected_mean[r]; rstd[r] = (float)expected_rstd[r]; }

    // The backward reference on the saved (float) statistics, as BackwardReference takes them.
    std::vector<double> expected_dx(count), expected_dgamma(c.width), expected_dbeta(c.width);
    for (int r = 0; r < c.rows; r++)
    {
        double g_mean = 0, gx_mean = 0;
        for (int i = 0; i < c.width; i++)
        {
            size_t at = (size_t)r * c.width + i;
            double xhat = (x0[at] - mean[r]) * (double)rstd[r], g = dy0[at] * (double)gamma[i];
            g_mean += g;
            gx_mean += g * xhat;
            expected_dgamma[i] += dy0[at] * xhat;
            expected_dbeta[i] += dy0[at];
        }
        g_mean /= c.width;
        gx_mean /= c.width;
        for (int i = 0; i < c.width; i++)
        {
            size_t at = (size_t)r * c.width + i;
            double xhat = (x0[at] - mean[r]) * (double)rstd[r];
            expected_dx[at] = rstd[r] * (dy0[at] * (double)gamma[i] - g_mean - xhat * gx_mean);
        }
    }

    // As LayerNorm.BackwardCuda: the parameter kernel over Cover(width, 256) only when dgamma or dbeta is wanted, with a
    // null pointer for the other, first, as it reads dy; then the input kernel (dx may be dy).
    std::vector<float> dx_store(count, nan), dgamma(c.width, nan), dbeta(c.width, nan);
    float* dx = c.in_place ? dy.data() : dx_store.data();
    if (c.parameters)
        launch(layernorm_backward_parameters, dim3(std::max(1, (c.width + 255) / 256)), dim3(256), (const float*)dy.data(), (const float*)x0.data(),
            (const float*)mean.data(), (const float*)rstd.data(), c.parameters & 1 ? dgamma.data() : (float*)nullptr,
            c.parameters & 2 ? dbeta.data() : (float*)nullptr, c.rows, c.width);
    // The adding form first, onto a residual stream of its own (dy is still intact), then the plain one (dx may be dy).
    std::vector<float> stream = inputs.uniform(count, -1, 1), added = stream;
    launch(layernorm_backward_input, rows_grid, dim3(256), (const float*)dy.data(), (const float*)x0.data(), (const float*)gamma.data(),
        (const float*)mean.data(), (const float*)rstd.data(), added.data(), c.rows, c.width, 1);
    launch(layernorm_backward_input, rows_grid, dim3(256), (const float*)dy.data(), (const float*)x0.data(), (const float*)gamma.data(),
        (const float*)mean.data(), (const float*)rstd.data(), dx, c.rows, c.width, 0);
    std::vector<float> out_dx(dx, dx + count);
    std::vector<double> expected_added(count);
    for (size_t i = 0; i < count; i++) expected_added[i] = stream[i] + expected_dx[i];

    const char* requested[] = { "none", "dgamma", "dbeta", "both" };
    std::printf("%d rows x %d, eps %g, center %g%s%s, parameters %s\n", c.rows, c.width, c.eps, c.center, c.in_place ? ", in place" : "",
        c.saved ? "" : ", statistics not saved", requested[c.parameters]);
    std::vector<double> expected_x(x0.begin(), x0.end());
    bool passed = report("x kept (exactly)", kept, expected_x, 0) & report("x kept by the bfloat16 form (exactly)", kept_bfloat16, expected_x, 0)
        & report("y", out_y, expected_y) & report_rounded("y in bfloat16", y_bfloat16, out_y) & report("dx", out_dx, expected_dx)
        & report("dx added to a residual stream", added, expected_added);
    if (c.saved) passed &= report("mean", mean, expected_mean) & report("rstd", rstd, expected_rstd);
    // Not requested: left untouched (still NaN).
    std::vector<double> untouched(c.width, std::numeric_limits<double>::quiet_NaN());
    passed &= report(c.parameters & 1 ? "dgamma" : "dgamma (not requested: untouched)", dgamma, c.parameters & 1 ? expected_dgamma : untouched);
    passed &= report(c.parameters & 2 ? "dbeta" : "dbeta (not requested: untouched)", dbeta, c.parameters & 2 ? expected_dbeta : untouched);
    return passed;
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 5, 1e-5f, 0, 0, 1, 3 });       // one short row
    passed &= run({ 7, 77, 1e-5f, 0, 0, 1, 3 });      // CLIP text width is 512; odd widths cover the lane tails
    passed &= run({ 33, 513, 1e-6f, 0, 1, 1, 0 });    // in place (y = x, dx = dy), no parameter gradients
    passed &= run({ 33, 513, 1e-6f, 0, 1, 1, 3 });    // in place with both parameter gradients, which read dy first
    passed &= run({ 33, 513, 1e-6f, 0, 0, 1, 1 });    // dgamma only: dbeta's pointer null
    passed &= run({ 9, 512, 1e-5f, 0, 0, 0, 2 });     // statistics not saved, dbeta only
    passed &= run({ 9, 33, 1e-5f, 0, 1, 1, 0 });      // no parameter gradients: the second kernel is not launched
    passed &= run({ 17, 300, 1e-6f, 40, 0, 1, 3 });   // rows centred at 40: two-pass variance; 2 column blocks
    passed &= run({ 197, 768, 1e-6f, 0, 0, 1, 3 });   // ViT-B/16 tokens x width, the visual blocks' eps
    passed &= run({ 4, 64, 1e-5f, 0, 0, 1, 3 });      // whole vectors narrower than a warp's: 16 lanes hold the row
    passed &= run({ 5, 1500, 1e-5f, 0, 1, 1, 3 });    // wider than the forward's registers hold (1024), in place
    passed &= run({ 3, 1024, 1e-5f, 0, 1, 1, 0 });    // exactly the registers' width, in place
    return passed ? 0 : 1;
}
