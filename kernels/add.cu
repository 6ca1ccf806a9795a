// The transformer's two in-place additions (CPU reference: src/Kernels/Ops/Add.cs):
//   add_bias:      x[r, i] += bias[i]       (broadcast over rows)
//   add_residual:  x[i] += y[i]             (y may be x itself)
// Elementwise and memory-bound: grid-stride loops over float4 vectors when the pointers are 16-byte aligned (and,
// for the bias, the width is a multiple of 4 so a vector never straddles two rows), then a scalar tail. They stay
// separate kernels: fusing the bias into the GEMM epilogue is the GEMM's job. A bias's gradient, a sum over rows, is
// kernels/columnsum.cu's.

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
