// The image tower's input sequence (CPU reference: src/Kernels/Ops/ClassTokenSequence.cs):
//   x[b, 0] = cls + cls_position,  x[b, 1 + n] = tokens[b, n] + grid[n]
// One thread per element of x, grid-stride; consecutive threads take consecutive features.

extern "C" __global__ void class_token_sequence(const float* __restrict__ tokens, const float* __restrict__ grid,
    const float* __restrict__ cls, const float* __restrict__ cls_position, float* __restrict__ x, int batch, int patches, int width)
{
    long long count = (long long)batch * (1 + patches) * width;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int d = (int)(e % width);
        long long row = e / width;
        int t = (int)(row % (1 + patches)), b = (int)(row / (1 + patches));
        x[e] = t == 0 ? cls[d] + cls_position[d] : tokens[((long long)b * patches + t - 1) * width + d] + grid[(long long)(t - 1) * width + d];
    }
}
