using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ReClip.Kernels.Gemm;

/// <summary>
/// The 12×32 register tile for 512-bit vectors (AVX-512F): 24 accumulators + 2 B vectors + 1 broadcast
/// out of the 32 zmm registers, enough independent FMA chains to cover two FMA pipes of latency 4.
/// Written with the cross-platform Vector512 API, so it also runs (emulated, slowly) where AVX-512 is
/// absent — that is how the tests check it on every machine. Its half (6 rows, 12 chains) still covers one 512-bit
/// pipe's latency on Zen 4, so an edge of up to 6 rows costs half a tile (ViT shapes at 197 rows +2–4 %).
/// </summary>
internal static unsafe class MicroKernel12x32
{
    public const int Rows = 12;
    public const int Columns = 32;

    /// <summary>
    /// C[Rows×Columns] (row stride ldc) = alpha·(packed A sliver · packed B sliver) + bias, plus C itself when
    /// <paramref name="accumulate"/>. A is packed Rows per k step, B Columns per k step. <typeparamref name="THeight"/>
    /// says whether all rows are computed or only the first half, for an edge sliver that has no more.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<THeight>(int kc, float* a, float* b, float* c, long ldc, float alpha, bool accumulate, float* bias)
        where THeight : struct, ITileHeight
    {
        // Pull the C tile towards L1 while the k loop runs: it is read (accumulate) and written at the end.
        if (Sse.IsSupported)
        {
            int height = THeight.Full ? Rows : Rows / 2;
            for (int r = 0; r < height; r++)
            {
                Sse.Prefetch0(c + r * ldc);
                Sse.Prefetch0(c + r * ldc + Columns - 1);
            }
        }

        Vector512<float> c00 = default; Vector512<float> c01 = default;
        Vector512<float> c10 = default; Vector512<float> c11 = default;
        Vector512<float> c20 = default; Vector512<float> c21 = default;
        Vector512<float> c30 = default; Vector512<float> c31 = default;
        Vector512<float> c40 = default; Vector512<float> c41 = default;
        Vector512<float> c50 = default; Vector512<float> c51 = default;
        Vector512<float> c60 = default; Vector512<float> c61 = default;
        Vector512<float> c70 = default; Vector512<float> c71 = default;
        Vector512<float> c80 = default; Vector512<float> c81 = default;
        Vector512<float> c90 = default; Vector512<float> c91 = default;
        Vector512<float> c100 = default; Vector512<float> c101 = default;
        Vector512<float> c110 = default; Vector512<float> c111 = default;

        // The JIT does not unroll; four k steps per iteration cut the loop overhead (+5–8% measured on 2048³ and the ViT shapes).
        // kc is a multiple of 4: the packed slivers end in zero steps up to it (SgemmPacking.Padded).
        for (int p = 0; p < kc; p += 4)
        {
            {
                Vector512<float> b0 = Vector512.Load(b + 0);
                Vector512<float> b1 = Vector512.Load(b + 16);
                Vector512<float> a0 = Vector512.Create(a[0]);
                c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
                Vector512<float> a1 = Vector512.Create(a[1]);
                c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
                Vector512<float> a2 = Vector512.Create(a[2]);
                c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
                Vector512<float> a3 = Vector512.Create(a[3]);
                c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
                Vector512<float> a4 = Vector512.Create(a[4]);
                c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
                Vector512<float> a5 = Vector512.Create(a[5]);
                c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
                if (THeight.Full)
                {
                    Vector512<float> a6 = Vector512.Create(a[6]);
                    c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
                    Vector512<float> a7 = Vector512.Create(a[7]);
                    c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
                    Vector512<float> a8 = Vector512.Create(a[8]);
                    c80 = Vector512.FusedMultiplyAdd(a8, b0, c80); c81 = Vector512.FusedMultiplyAdd(a8, b1, c81);
                    Vector512<float> a9 = Vector512.Create(a[9]);
                    c90 = Vector512.FusedMultiplyAdd(a9, b0, c90); c91 = Vector512.FusedMultiplyAdd(a9, b1, c91);
                    Vector512<float> a10 = Vector512.Create(a[10]);
                    c100 = Vector512.FusedMultiplyAdd(a10, b0, c100); c101 = Vector512.FusedMultiplyAdd(a10, b1, c101);
                    Vector512<float> a11 = Vector512.Create(a[11]);
                    c110 = Vector512.FusedMultiplyAdd(a11, b0, c110); c111 = Vector512.FusedMultiplyAdd(a11, b1, c111);
                }
            }
            {
                Vector512<float> b0 = Vector512.Load(b + 32);
                Vector512<float> b1 = Vector512.Load(b + 48);
                Vector512<float> a0 = Vector512.Create(a[12]);
                c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
                Vector512<float> a1 = Vector512.Create(a[13]);
                c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
                Vector512<float> a2 = Vector512.Create(a[14]);
                c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
                Vector512<float> a3 = Vector512.Create(a[15]);
                c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
                Vector512<float> a4 = Vector512.Create(a[16]);
                c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
                Vector512<float> a5 = Vector512.Create(a[17]);
                c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
                if (THeight.Full)
                {
                    Vector512<float> a6 = Vector512.Create(a[18]);
                    c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
                    Vector512<float> a7 = Vector512.Create(a[19]);
                    c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
                    Vector512<float> a8 = Vector512.Create(a[20]);
                    c80 = Vector512.FusedMultiplyAdd(a8, b0, c80); c81 = Vector512.FusedMultiplyAdd(a8, b1, c81);
                    Vector512<float> a9 = Vector512.Create(a[21]);
                    c90 = Vector512.FusedMultiplyAdd(a9, b0, c90); c91 = Vector512.FusedMultiplyAdd(a9, b1, c91);
                    Vector512<float> a10 = Vector512.Create(a[22]);
                    c100 = Vector512.FusedMultiplyAdd(a10, b0, c100); c101 = Vector512.FusedMultiplyAdd(a10, b1, c101);
                    Vector512<float> a11 = Vector512.Create(a[23]);
                    c110 = Vector512.FusedMultiplyAdd(a11, b0, c110); c111 = Vector512.FusedMultiplyAdd(a11, b1, c111);
                }
            }
            {
                Vector512<float> b0 = Vector512.Load(b + 64);
                Vector512<float> b1 = Vector512.Load(b + 80);
                Vector512<float> a0 = Vector512.Create(a[24]);
                c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
                Vector512<float> a1 = Vector512.Create(a[25]);
                c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
                Vector512<float> a2 = Vector512.Create(a[26]);
                c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
                Vector512<float> a3 = Vector512.Create(a[27]);
                c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
                Vector512<float> a4 = Vector512.Create(a[28]);
                c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
                Vector512<float> a5 = Vector512.Create(a[29]);
                c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
                if (THeight.Full)
                {
                    Vector512<float> a6 = Vector512.Create(a[30]);
                    c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
                    Vector512<float> a7 = Vector512.Create(a[31]);
                    c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
                    Vector512<float> a8 = Vector512.Create(a[32]);
                    c80 = Vector512.FusedMultiplyAdd(a8, b0, c80); c81 = Vector512.FusedMultiplyAdd(a8, b1, c81);
                    Vector512<float> a9 = Vector512.Create(a[33]);
                    c90 = Vector512.FusedMultiplyAdd(a9, b0, c90); c91 = Vector512.FusedMultiplyAdd(a9, b1, c91);
                    Vector512<float> a10 = Vector512.Create(a[34]);
                    c100 = Vector512.FusedMultiplyAdd(a10, b0, c100); c101 = Vector512.FusedMultiplyAdd(a10, b1, c101);
                    Vector512<float> a11 = Vector512.Create(a[35]);
                    c110 = Vector512.FusedMultiplyAdd(a11, b0, c110); c111 = Vector512.FusedMultiplyAdd(a11, b1, c111);
                }
            }
            {
                Vector512<float> b0 = Vector512.Load(b + 96);
                Vector512<float> b1 = Vector512.Load(b + 112);
                Vector512<float> a0 = Vector512.Create(a[36]);
                c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
                Vector512<float> a1 = Vector512.Create(a[37]);
                c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
                Vector512<float> a2 = Vector512.Create(a[38]);
                c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
                Vector512<float> a3 = Vector512.Create(a[39]);
                c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
                Vector512<float> a4 = Vector512.Create(a[40]);
                c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
                Vector512<float> a5 = Vector512.Create(a[41]);
                c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
                if (THeight.Full)
                {
                    Vector512<float> a6 = Vector512.Create(a[42]);
                    c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
                    Vector512<float> a7 = Vector512.Create(a[43]);
                    c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
                    Vector512<float> a8 = Vector512.Create(a[44]);
                    c80 = Vector512.FusedMultiplyAdd(a8, b0, c80); c81 = Vector512.FusedMultiplyAdd(a8, b1, c81);
                    Vector512<float> a9 = Vector512.Create(a[45]);
                    c90 = Vector512.FusedMultiplyAdd(a9, b0, c90); c91 = Vector512.FusedMultiplyAdd(a9, b1, c91);
                    Vector512<float> a10 = Vector512.Create(a[46]);
                    c100 = Vector512.FusedMultiplyAdd(a10, b0, c100); c101 = Vector512.FusedMultiplyAdd(a10, b1, c101);
                    Vector512<float> a11 = Vector512.Create(a[47]);
                    c110 = Vector512.FusedMultiplyAdd(a11, b0, c110); c111 = Vector512.FusedMultiplyAdd(a11, b1, c111);
                }
            }
            a += 4 * Rows;
            b += 4 * Columns;
        }

        Vector512<float> scale = Vector512.Create(alpha);
        Vector512<float> shift0 = bias is null ? default : Vector512.Load(bias + 0);
        Vector512<float> shift1 = bias is null ? default : Vector512.Load(bias + 16);
        Store(c00, scale, shift0, c + 0 * ldc + 0, accumulate); Store(c01, scale, shift1, c + 0 * ldc + 16, accumulate);
        Store(c10, scale, shift0, c + 1 * ldc + 0, accumulate); Store(c11, scale, shift1, c + 1 * ldc + 16, accumulate);
        Store(c20, scale, shift0, c + 2 * ldc + 0, accumulate); Store(c21, scale, shift1, c + 2 * ldc + 16, accumulate);
        Store(c30, scale, shift0, c + 3 * ldc + 0, accumulate); Store(c31, scale, shift1, c + 3 * ldc + 16, accumulate);
        Store(c40, scale, shift0, c + 4 * ldc + 0, accumulate); Store(c41, scale, shift1, c + 4 * ldc + 16, accumulate);
        Store(c50, scale, shift0, c + 5 * ldc + 0, accumulate); Store(c51, scale, shift1, c + 5 * ldc + 16, accumulate);
        if (THeight.Full)
        {
            Store(c60, scale, shift0, c + 6 * ldc + 0, accumulate); Store(c61, scale, shift1, c + 6 * ldc + 16, accumulate);
            Store(c70, scale, shift0, c + 7 * ldc + 0, accumulate); Store(c71, scale, shift1, c + 7 * ldc + 16, accumulate);
            Store(c80, scale, shift0, c + 8 * ldc + 0, accumulate); Store(c81, scale, shift1, c + 8 * ldc + 16, accumulate);
            Store(c90, scale, shift0, c + 9 * ldc + 0, accumulate); Store(c91, scale, shift1, c + 9 * ldc + 16, accumulate);
            Store(c100, scale, shift0, c + 10 * ldc + 0, accumulate); Store(c101, scale, shift1, c + 10 * ldc + 16, accumulate);
            Store(c110, scale, shift0, c + 11 * ldc + 0, accumulate); Store(c111, scale, shift1, c + 11 * ldc + 16, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> sum, Vector512<float> scale, Vector512<float> shift, float* target, bool accumulate)
    {
        Vector512<float> value = Vector512.FusedMultiplyAdd(sum, scale, shift);
        if (accumulate)
            value += Vector512.Load(target);
        Vector512.Store(value, target);
    }
}
