// The separable resizes, bicubic and bilinear with align_corners=False (CPU references: src/Kernels/Ops/BicubicResize.cs,
// BilinearResize.cs, SeparableResize.cs): output (p, y, x) = Σ_i wy_i · (Σ_j wx_j · input(p, iy_i, ix_j)), summing
// along x first as PyTorch's CPU kernel and our CPU path do, and with the CPU path's roundings: each product and sum
// rounded on its own (no fused multiply-add, which NVRTC would otherwise contract them into), the inner sums from 0,
// the outer from the first term, so that both devices give the same bits (but the sign of a zero, with channels last,
// whose CPU inner sums start from their first term too). The taps (source indices, already clamped to the
// border, and weights) are computed once on the host by ResizeTaps, the same code as the CPU path, so both
// devices resample with identical weights; the kernel only gathers.
// One thread per output element, grid-stride; with channels last (the positional embedding as [h, w, C]) the
// channel is the fastest index, so neighbouring threads read neighbouring floats.

extern "C" __global__ void resize_separable(const float* __restrict__ input, float* __restrict__ output,
    const int* __restrict__ row_index, const float* __restrict__ row_weight,
    const int* __restrict__ column_index, const float* __restrict__ column_weight,
    int taps, int planes, int in_height, int in_width, int out_height, int out_width, int channels_last)
{
    long long count = (long long)planes * out_height * out_width;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < count; e += (long long)gridDim.x * blockDim.x)
    {
        int p, oy, ox;
        long long plane_step, row_step, column_step;
        if (channels_last)
        {
            p = (int)(e % planes);
            long long pixel = e / planes;
            ox = (int)(pixel % out_width);
            oy = (int)(pixel / out_width);
            plane_step = 1;
            column_step = planes;
            row_step = (long long)in_width * planes;
        }
        else
        {
            ox = (int)(e % out_width);
            oy = (int)(e / out_width % out_height);
            p = (int)(e / ((long long)out_width * out_height));
            plane_step = (long long)in_height * in_width;
            column_step = 1;
            row_step = in_width;
        }
        const float* source = input + p * plane_step;
        float total = 0.0f;
        for (int i = 0; i < taps; i++)
        {
            const float* row = source + row_index[oy * taps + i] * row_step;
            float inner = 0.0f;
            for (int j = 0; j < taps; j++)
                inner = __fadd_rn(inner, __fmul_rn(column_weight[ox * taps + j], row[column_index[ox * taps + j] * column_step]));
            float term = __fmul_rn(row_weight[oy * taps + i], inner);
            total = i == 0 ? term : __fadd_rn(term, total);
        }
        output[e] = total;
    }
}
