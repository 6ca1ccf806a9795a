// Column sums (CPU reference: src/Kernels/Ops/ColumnSum.cs): y[j] = sum over i of x[i, j], accumulated in double in
// row order and rounded once, as the CPU does, so both give the same float. One thread per column: consecutive
// threads read consecutive floats of a row (coalesced). The sums are short and narrow (pe_proj's bias gradient,
// spec §5: N patches of E = 512 columns), so a thread per column keeps enough loads in flight once unrolled.
// Below it, the same sums as means broadcast back to every row (row_mean).

extern "C" __global__ void column_sum(const float* __restrict__ x, float* __restrict__ y, int rows, int columns)
{
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < columns; j += gridDim.x * blockDim.x)
    {
        double sum = 0.0;
#pragma unroll 8
        for (int i = 0; i < rows; i++)
            sum += x[(long long)i * columns + j];
        y[j] = (float)sum;
    }
}

// Row means broadcast (CPU reference: src/Kernels/Ops/RowMean.cs): every row of y becomes the mean of x's rows, summed
// as column_sum sums, divided in double and rounded once, as the CPU does. y may be x (the ablations' gradients are
// averaged in place): a thread reads its whole column before it writes any of it, and no other thread touches it.
extern "C" __global__ void row_mean(const float* x, float* y, int rows, int columns)
{
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < columns; j += gridDim.x * blockDim.x)
    {
        double sum = 0.0;
#pragma unroll 8
        for (int i = 0; i < rows; i++)
            sum += x[(long long)i * columns + j];
        float mean = (float)(sum / rows);
        for (int i = 0; i < rows; i++)
            y[(long long)i * columns + j] = mean;
    }
}
