// One warp-wide tensor-core product, D = A·B + C with A 16×16 and B 16×8 in bfloat16 and C, D 16×8 in float32
// (PTX mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32, compute capability 8.0 and later). Lane l holds, with
// g = l / 4 and t = l % 4 (two bfloat16 per register, the lower index in the low half):
//   a[0] = A[g][2t…2t+1]   a[1] = A[g+8][2t…2t+1]   a[2] = A[g][2t+8…2t+9]   a[3] = A[g+8][2t+8…2t+9]
//   b[0] = B[2t…2t+1][g]   b[1] = B[2t+8…2t+9][g]
//   c[0…1] = C[g][2t…2t+1]  c[2…3] = C[g+8][2t…2t+1]
// The C layout of two neighbouring 16×8 products is the A layout of one 16×16 operand, so a product's result can
// feed the next product from registers (attention's probabilities). The CUDA emulator defines its own version.
#pragma once

#ifndef RECLIP_CUDA_EMULATOR
__device__ __forceinline__ void mma_bf16_16816(float* c, const unsigned int* a, const unsigned int* b)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#endif
