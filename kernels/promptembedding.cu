// The Reference prompt's input to the text encoder (CPU reference: src/Kernels/Ops/PromptEmbedding.cs).
//   forward:  x[c, l] = (l == 0 ? E[start] : l <= M ? context[l − 1] : E[slot_ids[c, l − 1 − M]]) + positional[l]
//   backward: d_context[m] = Σ_c dx[c, 1 + m], the classes summed in order (deterministic, as the CPU path)
// Grid-stride loops over the outputs; consecutive threads take consecutive features, so reads and writes coalesce.

extern "C" __global__ void prompt_embedding_forward(const float* __restrict__ embedding, const float* __restrict__ context,
    const int* __restrict__ slot_ids, const float* __restrict__ positional, float* __restrict__ x,
    int classes, int context_count, int slot_count, int width, int start_token)
{
    int length = 1 + context_count + slot_count;
    long long count = (long long)classes * length * width;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        long long row = e / width;
        int c = (int)(row / length), l = (int)(row % length), w = (int)(e % width);
        float token = l == 0 ? embedding[(long long)start_token * width + w]
            : l <= context_count ? context[(long long)(l - 1) * width + w]
            : embedding[(long long)slot_ids[c * slot_count + l - 1 - context_count] * width + w];
        x[e] = token + positional[(long long)l * width + w];
    }
}

extern "C" __global__ void prompt_embedding_backward(const float* __restrict__ dx, float* __restrict__ d_context,
    int classes, int length, int context_count, int width)
{
    long long count = (long long)context_count * width;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int m = (int)(e / width), w = (int)(e % width);
        float sum = 0.0f;
        for (int c = 0; c < classes; c++)
            sum += dx[((long long)c * length + 1 + m) * width + w];
        d_context[e] = sum;
    }
}
