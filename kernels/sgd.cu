// One step of PyTorch's SGD with momentum and L2 weight decay (CPU reference: src/Kernels/Ops/Sgd.cs):
//   d = fma(theta, wd, g);  buf = first ? d : buf * mu + d (a product and a sum, two roundings);
//   theta = fma(buf, -lr, theta)
// rounded exactly as the CPU fast path (and PyTorch's add-with-alpha / mul_ + add_): the explicit
// __fmaf_rn/__fmul_rn/__fadd_rn keep NVRTC from contracting or splitting differently.
// One fused pass over the three tensors (the step is bandwidth-bound): a grid-stride loop over float4
// vectors when all pointers are 16-byte aligned (the launcher checks), then a scalar tail.

__device__ __forceinline__ void sgd_update(float& theta, float g, float& buf, int first, float lr, float mu, float wd)
{
    float d = __fmaf_rn(theta, wd, g);
    float b = first ? d : __fadd_rn(__fmul_rn(buf, mu), d);
    buf = b;
    theta = __fmaf_rn(b, -lr, theta);
}

extern "C" __global__ void sgd_step(float* __restrict__ parameter, const float* __restrict__ gradient, float* __restrict__ buffer,
    long long count, int first, float lr, float momentum, float weight_decay, int vectorised)
{
    long long stride = (long long)gridDim.x * blockDim.x;
    long long start = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long vectors = vectorised ? count / 4 : 0;
    for (long long v = start; v < vectors; v += stride)
    {
        float4 p = reinterpret_cast<float4*>(parameter)[v];
        float4 g = reinterpret_cast<const float4*>(gradient)[v];
        // On the first step the buffer is uninitialised memory: it is not read (sgd_update ignores it).
        float4 b = first ? make_float4(0.0f, 0.0f, 0.0f, 0.0f) : reinterpret_cast<float4*>(buffer)[v];
        sgd_update(p.x, g.x, b.x, first, lr, momentum, weight_decay);
        sgd_update(p.y, g.y, b.y, first, lr, momentum, weight_decay);
        sgd_update(p.z, g.z, b.z, first, lr, momentum, weight_decay);
        sgd_update(p.w, g.w, b.w, first, lr, momentum, weight_decay);
        reinterpret_cast<float4*>(buffer)[v] = b;
        reinterpret_cast<float4*>(parameter)[v] = p;
    }
    for (long long i = vectors * 4 + start; i < count; i += stride)
    {
        float p = parameter[i], b = first ? 0.0f : buffer[i];
        sgd_update(p, gradient[i], b, first, lr, momentum, weight_decay);
        buffer[i] = b;
        parameter[i] = p;
    }
}
