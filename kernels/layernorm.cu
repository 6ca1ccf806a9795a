// LayerNorm over the last dimension (CPU reference: src/Kernels/Ops/LayerNorm.cs).
//   forward:  y = (x - mean) * rstd * gamma + beta, saving mean and rstd per row
//   backward: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, xhat = (x - mean) * rstd
//             dgamma = sum over rows of dy * xhat, dbeta = sum over rows of dy
// One warp per row: rows are 512..3072 wide, so a warp's 32 lanes stride through a row with coalesced
// loads; the forward keeps rows up to 1024 wide in registers (when they are whole 16-byte vectors, as CLIP's are),
// other rows stay in L1 between the passes. The
// statistics use two passes (mean, then squared deviations) like the CPU path, not E[x^2] - mean^2, which
// cancels badly.
// dgamma/dbeta reduce over rows, a different axis: a separate kernel, one thread per column, so the
// sum runs in row order and is deterministic (no atomics).

#include "bfloat16.cuh"
#include "warp.cuh"

// Values per lane the forward keeps in registers: rows up to 1024 wide (CLIP's 512, 768 and 1024) are read once.
#define ROW_REGISTERS 32

// x and y (and dy and dx below) may be the same buffer, as on the CPU path: no __restrict__ on them. y is float32, or
// bfloat16 when it only feeds a bfloat16 GEMM (layernorm_forward_bf16). keep, when not null, receives a copy of x (a
// block's input kept for its backward) from the loads the statistics make anyway: no copy pass of its own.
template <typename Out>
__device__ __forceinline__ void layernorm_rows(const float* x, const float* __restrict__ gamma, const float* __restrict__ beta, Out* y,
    float* __restrict__ mean, float* __restrict__ rstd, float* __restrict__ keep, int rows, int width, float eps)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float* in = x + (long long)row * width;
    Out* out = y + (long long)row * width;
    float* kept = keep ? keep + (long long)row * width : nullptr;
    float mu, inverse;
    // Rows of whole 16-byte vectors (CLIP's widths; tensors from the allocator): the row read once into registers, each
    // lane holding features 4·lane + 128·j.., loaded and stored a vector at a time (in bfloat16 one 8-byte store of
    // four), so a warp moves 512 bytes per load where scalar loads moved 128; then both statistics and the output
    // from there: one pass over memory instead of three.
    bool quads = width <= 32 * ROW_REGISTERS && width % 4 == 0
        && (((unsigned long long)in | (unsigned long long)gamma | (unsigned long long)beta | (unsigned long long)kept) & 15) == 0
        && ((unsigned long long)out & (4 * sizeof(Out) - 1)) == 0;
    if (quads)
    {
        float4 values[ROW_REGISTERS / 4];
        float sum = 0.0f, squares = 0.0f;
#pragma unroll
        for (int j = 0; j < ROW_REGISTERS / 4; j++)
        {
            int i = 4 * lane + 128 * j;
            values[j] = i < width ? *(const float4*)(in + i) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            if (kept && i < width) *(float4*)(kept + i) = values[j];
        }
#pragma unroll
        for (int j = 0; j < ROW_REGISTERS / 4; j++) sum += values[j].x + values[j].y + values[j].z + values[j].w;
        mu = warp_sum(sum) / width;
#pragma unroll
        for (int j = 0; j < ROW_REGISTERS / 4; j++)
            if (4 * lane + 128 * j < width)
            {
                float4 d = make_float4(values[j].x - mu, values[j].y - mu, values[j].z - mu, values[j].w - mu);
                squares += d.x * d.x + d.y * d.y + d.z * d.z + d.w * d.w;
            }
        inverse = rsqrtf(warp_sum(squares) / width + eps);
#pragma unroll
        for (int j = 0; j < ROW_REGISTERS / 4; j++)
        {
            int i = 4 * lane + 128 * j;
            if (i >= width) continue;
            float4 v = values[j], g = *(const float4*)(gamma + i), b = *(const float4*)(beta + i);
            store_quad(out + i, make_float4((v.x - mu) * inverse * g.x + b.x, (v.y - mu) * inverse * g.y + b.y,
                (v.z - mu) * inverse * g.z + b.z, (v.w - mu) * inverse * g.w + b.w));
        }
    }
    else
    {
        float sum = 0.0f;
        for (int i = lane; i < width; i += 32)
        {
            sum += in[i];
            if (kept) kept[i] = in[i];
        }
        mu = warp_sum(sum) / width;
        float squares = 0.0f;
        for (int i = lane; i < width; i += 32) { float d = in[i] - mu; squares += d * d; }
        inverse = rsqrtf(warp_sum(squares) / width + eps);
        for (int i = lane; i < width; i += 32) store_value(out, i, (in[i] - mu) * inverse * gamma[i] + beta[i]);
    }
    if (lane == 0)
    {
        if (mean) mean[row] = mu;
        if (rstd) rstd[row] = inverse;
    }
}

extern "C" __global__ void layernorm_forward(const float* x, const float* __restrict__ gamma, const float* __restrict__ beta, float* y,
    float* __restrict__ mean, float* __restrict__ rstd, float* __restrict__ keep, int rows, int width, float eps)
{
    layernorm_rows(x, gamma, beta, y, mean, rstd, keep, rows, width, eps);
}

extern "C" __global__ void layernorm_forward_bf16(const float* x, const float* __restrict__ gamma, const float* __restrict__ beta,
    unsigned short* y, float* __restrict__ mean, float* __restrict__ rstd, float* __restrict__ keep, int rows, int width, float eps)
{
    layernorm_rows(x, gamma, beta, y, mean, rstd, keep, rows, width, eps);
}

// accumulate: dx += the input gradient (a residual stream's, dx then not dy), in the one pass that writes it otherwise.
extern "C" __global__ void layernorm_backward_input(const float* dy, const float* __restrict__ x,
    const float* __restrict__ gamma, const float* __restrict__ mean, const float* __restrict__ rstd,
    float* dx, int rows, int width, int accumulate)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float* grad = dy + (long long)row * width;
    const float* in = x + (long long)row * width;
    float mu = mean[row], inverse = rstd[row];
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (int i = lane; i < width; i += 32)
    {
        float g = grad[i] * gamma[i];
        g_sum += g;
        gx_sum += g * (in[i] - mu) * inverse;
    }
    float g_mean = warp_sum(g_sum) / width;
    float gx_mean = warp_sum(gx_sum) / width;
    float* out = dx + (long long)row * width;
    for (int i = lane; i < width; i += 32)
    {
        float xhat = (in[i] - mu) * inverse;
        float value = inverse * (grad[i] * gamma[i] - g_mean - xhat * gx_mean);
        out[i] = accumulate ? out[i] + value : value;
    }
}

extern "C" __global__ void layernorm_backward_parameters(const float* __restrict__ dy, const float* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ rstd, float* __restrict__ dgamma, float* __restrict__ dbeta,
    int rows, int width)
{
    int column = blockIdx.x * blockDim.x + threadIdx.x;
    if (column >= width) return;
    float gamma_sum = 0.0f, beta_sum = 0.0f;
    for (int r = 0; r < rows; r++)
    {
        float grad = dy[(long long)r * width + column];
        gamma_sum += grad * (x[(long long)r * width + column] - mean[r]) * rstd[r];
        beta_sum += grad;
    }
    if (dgamma) dgamma[column] = gamma_sum;
    if (dbeta) dbeta[column] = beta_sum;
}
