// The text tower's token lookup (CPU reference: src/Kernels/Ops/TokenEmbedding.cs):
//   x[r, w] = embedding[ids[r], w] + positional[first + r mod T, w]   for the B·T rows r
// One thread per element of x, grid-stride; consecutive threads take consecutive features of a row.

extern "C" __global__ void token_embedding(const float* __restrict__ embedding, const int* __restrict__ ids,
    const float* __restrict__ positional, float* __restrict__ x, int rows, int tokens, int width, int first_position)
{
    long long count = (long long)rows * width;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int r = (int)(e / width), w = (int)(e % width);
        x[e] = embedding[(long long)ids[r] * width + w] + positional[(long long)(first_position + r % tokens) * width + w];
    }
}
