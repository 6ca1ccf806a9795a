// Tensor-core products and the shared-memory traffic that feeds them (compute capability 8.0 and later).
// One warp-wide product, D = A·B + C with A 16×16 and B 16×8 in bfloat16 and C, D 16×8 in float32
// (PTX mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32). Lane l holds, with g = l / 4 and t = l % 4 (two
// bfloat16 per register, the lower index in the low half):
//   a[0] = A[g][2t…2t+1]   a[1] = A[g+8][2t…2t+1]   a[2] = A[g][2t+8…2t+9]   a[3] = A[g+8][2t+8…2t+9]
//   b[0] = B[2t…2t+1][g]   b[1] = B[2t+8…2t+9][g]
//   c[0…1] = C[g][2t…2t+1]  c[2…3] = C[g+8][2t…2t+1]
// The C layout of two neighbouring 16×8 products is the A layout of one 16×16 operand, so a product's result can
// feed the next product from registers (attention's probabilities).
// ldmatrix loads four 8×8 bfloat16 matrices for the warp: lane 8i + j names row j of matrix i (16 contiguous bytes,
// 16-byte aligned); lane l receives in r[i] matrix i's elements [g][2t…2t+1], or with .trans [2t…2t+1][g], which is
// a B register of a matrix stored [n][k] or [k][n] respectively.
// The CUDA emulator defines its own versions of everything below.
#pragma once

#ifndef RECLIP_CUDA_EMULATOR
__device__ __forceinline__ void mma_bf16_16816(float* c, const unsigned int* a, const unsigned int* b)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// The shared-window address of a generic pointer into shared memory, as ldmatrix and cp.async take it.
__device__ __forceinline__ unsigned int shared_address(const void* pointer)
{
    unsigned int address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(pointer));
    return address;
}

__device__ __forceinline__ void ldmatrix_x4(unsigned int* r, const unsigned short* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(row)) : "memory");
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned int* r, const unsigned short* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(row)) : "memory");
}

// 16 bytes from global to shared memory without passing through registers (cp.async), or 16 zero bytes where
// `valid` is false (a source size of 0 reads nothing). Both addresses 16-byte aligned. Copies issued since the last
// commit form a group; wait<N> returns once at most N groups are still in flight (then a barrier shares them).
__device__ __forceinline__ void copy_async16(void* shared, const void* global, bool valid)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(shared_address(shared)), "l"(global), "r"(valid ? 16 : 0) : "memory");
}

__device__ __forceinline__ void copy_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

template <int Pending> __device__ __forceinline__ void copy_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(Pending) : "memory"); }

// Two finite float32 as one bfloat16 pair register, rounded to nearest even (bfloat16_pair's bits) in one instruction.
__device__ __forceinline__ unsigned int bfloat16_pair_rn(float low, float high)
{
    unsigned int pair;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(pair) : "f"(high), "f"(low));
    return pair;
}
#endif
