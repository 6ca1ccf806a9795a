// CLIP's patch embedding, the gather half (CPU reference: src/Kernels/Ops/PatchEmbedding.cs): im2col for
// non-overlapping P×P patches, patches[(b, py, px), (c, ky, kx)] = image[b, c, py·P + ky, px·P + kx], zero where the
// padding at the bottom/right lies. The launcher then multiplies by the weight on cuBLAS. Grid-stride over the
// gathered matrix; consecutive threads take consecutive kx, so reads along an image row coalesce.

#include "bfloat16.cuh"

// patches in float32, or in bfloat16 for an image tower stored in bfloat16 (patch_gather_bf16: the pixels rounded to
// nearest even, as a bfloat16 convolution takes them; the GEMM after it runs on the tensor cores).
template <typename Out>
__device__ __forceinline__ void gather_patches(const float* __restrict__ image, Out* __restrict__ patches,
    int batch, int channels, int height, int width, int patch)
{
    int rows = (height + patch - 1) / patch, columns = (width + patch - 1) / patch;
    int depth = channels * patch * patch;
    long long count = (long long)batch * rows * columns * depth;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        long long r = e / depth;
        int k = (int)(e % depth);
        int c = k / (patch * patch), ky = k / patch % patch, kx = k % patch;
        int px = (int)(r % columns), py = (int)(r / columns % rows), b = (int)(r / ((long long)rows * columns));
        int y = py * patch + ky, x = px * patch + kx;
        store_value(patches, e, y < height && x < width ? image[(((long long)b * channels + c) * height + y) * width + x] : 0.0f);
    }
}

extern "C" __global__ void patch_gather(const float* __restrict__ image, float* __restrict__ patches,
    int batch, int channels, int height, int width, int patch)
{
    gather_patches(image, patches, batch, channels, height, width, patch);
}

extern "C" __global__ void patch_gather_bf16(const float* __restrict__ image, unsigned short* __restrict__ patches,
    int batch, int channels, int height, int width, int patch)
{
    gather_patches(image, patches, batch, channels, height, width, patch);
}
