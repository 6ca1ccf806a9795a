// Finiteness of a training step's gradients (CPU reference: src/Kernels/Ops/FiniteCheck.cs): flags[slot] = 1 when any
// of the tensor's n values is NaN or ±infinity. The launcher zeroes the flags once and launches this once per tensor,
// then reads all the flags back together: one wait for the device per step instead of one copy of every gradient.
// Every thread that finds such a value stores the same 1, so no atomics are needed.

extern "C" __global__ void nonfinite_flag(const float* __restrict__ x, long long n, int* __restrict__ flags, int slot)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        if (!isfinite(x[i])) flags[slot] = 1;
}
