// The EOT gather of the text encoder (CPU reference: src/Kernels/Ops/EotGather.cs).
//   forward:  y[c, w] = x[c, index[c], w]
//   backward: dx[c, l, w] = dy[c, w] where l = index[c], else 0
// Grid-stride loops over the outputs: the backward writes every element of dx exactly once (the zeros too), so it
// needs neither a clearing pass nor atomics.

extern "C" __global__ void eot_gather_forward(const float* __restrict__ x, const int* __restrict__ indices, float* __restrict__ y,
    int classes, int length, int width)
{
    long long count = (long long)classes * width;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int c = (int)(e / width), w = (int)(e % width);
        y[e] = x[((long long)c * length + indices[c]) * width + w];
    }
}

extern "C" __global__ void eot_gather_backward(const float* __restrict__ dy, const int* __restrict__ indices, float* __restrict__ dx,
    int classes, int length, int width)
{
    long long count = (long long)classes * length * width;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        long long row = e / width;
        int c = (int)(row / length), l = (int)(row % length), w = (int)(e % width);
        dx[e] = l == indices[c] ? dy[(long long)c * width + w] : 0.0f;
    }
}
