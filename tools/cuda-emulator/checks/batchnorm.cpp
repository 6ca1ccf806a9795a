// kernels/batchnorm.cu in the order BatchNorm2d.Cuda.cs runs it (no group), against BatchNorm written out in double:
// training forward with its saved statistics and running-statistic update, eval forward, and the backward pass.
#include "check.h"
#include "batchnorm.cu"

static bool run(int batch, int channels, int height, int width)
{
    Inputs inputs(23);
    int spatial = height * width;
    long long n = (long long)batch * spatial;
    const float momentum = 0.1f, eps = 1e-5f;
    std::vector<float> x = inputs.uniform((size_t)batch * channels * spatial, -2, 3), gamma = inputs.uniform(channels, 0.5f, 1.5f);
    std::vector<float> beta = inputs.uniform(channels), running_mean = inputs.uniform(channels), running_var = inputs.uniform(channels, 0.5f, 2);
    std::vector<float> dy = inputs.uniform(x.size());
    std::vector<double> y(x.size()), y_eval(x.size()), mean(channels), rstd(channels), new_mean(channels), new_var(channels);
    std::vector<double> dx(x.size()), dgamma(channels), dbeta(channels);
    auto at = [&](int b, int c, int i) { return ((size_t)b * channels + c) * spatial + i; };
    for (int c = 0; c < channels; c++)
    {
        double sum = 0, squares = 0, gradient_sum = 0, gradient_dot = 0;
        for (int b = 0; b < batch; b++) for (int i = 0; i < spatial; i++) sum += x[at(b, c, i)];
        double mu = sum / n;
        for (int b = 0; b < batch; b++) for (int i = 0; i < spatial; i++) squares += (x[at(b, c, i)] - mu) * (x[at(b, c, i)] - mu);
        double inverse = 1 / std::sqrt(squares / n + eps), eval_inverse = 1 / std::sqrt((double)running_var[c] + eps);
        mean[c] = mu;
        rstd[c] = inverse;
        new_mean[c] = (1 - momentum) * running_mean[c] + momentum * mu;
        new_var[c] = (1 - momentum) * running_var[c] + momentum * squares / (n - 1);
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < spatial; i++)
            {
                double xhat = (x[at(b, c, i)] - mu) * inverse;
                y[at(b, c, i)] = xhat * gamma[c] + beta[c];
                y_eval[at(b, c, i)] = (x[at(b, c, i)] - running_mean[c]) * eval_inverse * gamma[c] + beta[c];
                gradient_sum += dy[at(b, c, i)];
                gradient_dot += dy[at(b, c, i)] * xhat;
            }
        dgamma[c] = gradient_dot;
        dbeta[c] = gradient_sum;
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < spatial; i++)
            {
                double xhat = (x[at(b, c, i)] - mu) * inverse;
                dx[at(b, c, i)] = gamma[c] * inverse * (dy[at(b, c, i)] - gradient_sum / n - xhat * gradient_dot / n);
            }
    }

    std::vector<double> sums(channels), squares(channels), backward_sums(2 * channels);
    std::vector<float> out_mean(channels), out_rstd(channels), out_rm = running_mean, out_rv = running_var, out_y(x.size()), out_eval(x.size());
    std::vector<float> out_dx(x.size()), out_dgamma(channels), out_dbeta(channels);
    launch(batchnorm_sums, dim3(channels), dim3(THREADS), x.data(), sums.data(), batch, channels, spatial);
    launch(batchnorm_squares, dim3(channels), dim3(THREADS), x.data(), sums.data(), out_mean.data(), squares.data(), batch, channels, spatial, n);
    launch(batchnorm_update, dim3((channels + 255) / 256), dim3(THREADS), squares.data(), out_mean.data(), out_rstd.data(), out_rm.data(), out_rv.data(),
        channels, n, momentum, eps);
    launch(batchnorm_affine, elementwise((long long)x.size()), dim3(THREADS), x.data(), out_y.data(), out_mean.data(), out_rstd.data(), gamma.data(), beta.data(),
        0, eps, batch, channels, spatial);
    launch(batchnorm_affine, elementwise((long long)x.size()), dim3(THREADS), x.data(), out_eval.data(), running_mean.data(), running_var.data(), gamma.data(),
        beta.data(), 1, eps, batch, channels, spatial);
    launch(batchnorm_backward_sums, dim3(channels), dim3(THREADS), dy.data(), x.data(), out_mean.data(), out_rstd.data(), backward_sums.data(),
        out_dgamma.data(), out_dbeta.data(), batch, channels, spatial);
    launch(batchnorm_backward_input, elementwise((long long)x.size()), dim3(THREADS), dy.data(), x.data(), out_mean.data(), out_rstd.data(), gamma.data(),
        backward_sums.data(), out_dx.data(), batch, channels, spatial, n);

    std::printf("batch %d, %d channels, %dx%d\n", batch, channels, height, width);
    // Normalised O(1) values; the statistics are summed in double, so float rounding of the elementwise passes dominates.
    return report("y", out_y, y) & report("mean", out_mean, mean) & report("rstd", out_rstd, rstd) & report("running mean", out_rm, new_mean)
        & report("running var", out_rv, new_var) & report("y eval", out_eval, y_eval) & report("dx", out_dx, dx)
        & report("dgamma", out_dgamma, dgamma) & report("dbeta", out_dbeta, dbeta);
}

int main()
{
    bool passed = run(2, 3, 5, 7) & run(1, 5, 1, 2) & run(4, 20, 21, 21);
    return passed ? 0 : 1;
}
