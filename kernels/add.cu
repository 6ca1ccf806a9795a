// The transformer's two in-place additions and the bias gradient (CPU reference: src/Kernels/Ops/Add.cs):
//   add_bias:      x[r, i] += bias[i]       (broadcast over rows)
//   add_residual:  x[i] += y[i]             (y may be x itself)
//   bias backward: dbias[i] = sum over r of dy[r, i]
// The adds are elementwise and memory-bound: grid-stride loops over float4 vectors when the pointers are
// 16-byte aligned (and, for the bias, the width is a multiple of 4 so a vector never straddles two rows),
// then a scalar tail. They stay separate kernels: fusing the bias into the GEMM epilogue is the GEMM's job.
// The bias gradient is deterministic with no atomics, in two kernels: add_bias_backward_groups sums each
// group of 64 rows per column (one thread per column and group; consecutive threads read consecutive
// columns, so each row is read coalesced), add_bias_backward_total adds the group sums in group order.
// That is the CPU path's grouping exactly (rows in order within a group, then groups in order), which bounds
// the float32 rounding by ~(64 + rows/64) eps sum|dy| and gives the same result for any launch shape.

#define ADD_ROW_GROUP 64

extern "C" __global__ void add_bias(float* __restrict__ x, const float* __restrict__ bias, long long count, int width, int vectorised)
{
    long long stride = (long long)gridDim.x * blockDim.x;
    long long start = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long vectors = vectorised ? count / 4 : 0;
    for (long long v = start; v < vectors; v += stride)
    {
        // width % 4 == 0 on this path, so the four elements share a row and bias[column .. column + 3] is aligned.
        int column = (int)((v * 4) % width);
        float4 a = reinterpret_cast<float4*>(x)[v];
        float4 b = *reinterpret_cast<const float4*>(bias + column);
        reinterpret_cast<float4*>(x)[v] = make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
    }
    for (long long i = vectors * 4 + start; i < count; i += stride)
        x[i] += bias[i % width];
}

extern "C" __global__ void add_residual(float* x, const float* y, long long count, int vectorised)
{
    long long stride = (long long)gridDim.x * blockDim.x;
    long long start = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long vectors = vectorised ? count / 4 : 0;
    for (long long v = start; v < vectors; v += stride)
    {
        float4 a = reinterpret_cast<float4*>(x)[v];
        float4 b = reinterpret_cast<const float4*>(y)[v];
        reinterpret_cast<float4*>(x)[v] = make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
    }
    for (long long i = vectors * 4 + start; i < count; i += stride)
        x[i] += y[i];
}

// Grid: x covers the columns, y the row groups. partial[group, column] = sum of dy over the group's rows.
extern "C" __global__ void add_bias_backward_groups(const float* __restrict__ dy, float* __restrict__ partial, int rows, int width)
{
    int column = blockIdx.x * blockDim.x + threadIdx.x;
    int group = blockIdx.y;
    if (column >= width) return;
    int first = group * ADD_ROW_GROUP;
    int last = min(first + ADD_ROW_GROUP, rows);
    float sum = 0.0f;
    for (int r = first; r < last; r++)
        sum += dy[(long long)r * width + column];
    partial[(long long)group * width + column] = sum;
}

// One thread per column: dbias[column] = the group sums added in group order.
extern "C" __global__ void add_bias_backward_total(const float* __restrict__ partial, float* __restrict__ dbias, int groups, int width)
{
    int column = blockIdx.x * blockDim.x + threadIdx.x;
    if (column >= width) return;
    float total = 0.0f;
    for (int g = 0; g < groups; g++)
        total += partial[(long long)g * width + column];
    dbias[column] = total;
}
