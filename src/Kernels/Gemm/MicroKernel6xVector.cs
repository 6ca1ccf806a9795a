using System.Numerics;
using System.Runtime.CompilerServices;

namespace ReClip.Kernels.Gemm;

/// <summary>
/// The fallback register tile for CPUs with neither AVX-512 nor AVX2+FMA: 6 rows × 2 <see cref="Vector{T}"/> of
/// columns (8 columns on SSE or NEON, 16 where Vector&lt;T&gt; is 256 bits), 12 accumulators + 2 B vectors + 1
/// broadcast, within the 16 registers of SSE. Vector&lt;T&gt; maps to whatever width the CPU accelerates, where the
/// fixed-width Vector256 of <see cref="MicroKernel6x16"/> would run in software. It multiplies and adds separately: a
/// fused multiply-add on a CPU without FMA is computed in software, exactly, and many times slower. One k step per
/// iteration, since this tile's speed is not what the fast paths are measured by.
/// </summary>
internal static unsafe class MicroKernel6xVector
{
    public const int Rows = 6;

    public static int Columns { get; } = 2 * Vector<float>.Count;

    /// <summary>
    /// C[Rows×Columns] (row stride ldc) = alpha·(packed A sliver · packed B sliver) + bias, plus C itself when
    /// <paramref name="accumulate"/>. A is packed Rows per k step, B Columns per k step. <typeparamref name="THeight"/>
    /// says whether all rows are computed or only the first half, for an edge sliver that has no more.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<THeight>(int kc, float* a, float* b, float* c, long ldc, float alpha, bool accumulate, float* bias)
        where THeight : struct, ITileHeight
    {
        int lanes = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector<float> b0 = *(Vector<float>*)b, b1 = *(Vector<float>*)(b + lanes);
            Vector<float> a0 = new(a[0]), a1 = new(a[1]), a2 = new(a[2]);
            c00 += a0 * b0; c01 += a0 * b1;
            c10 += a1 * b0; c11 += a1 * b1;
            c20 += a2 * b0; c21 += a2 * b1;
            if (THeight.Full)
            {
                Vector<float> a3 = new(a[3]), a4 = new(a[4]), a5 = new(a[5]);
                c30 += a3 * b0; c31 += a3 * b1;
                c40 += a4 * b0; c41 += a4 * b1;
                c50 += a5 * b0; c51 += a5 * b1;
            }
            a += Rows;
            b += Columns;
        }

        var scale = new Vector<float>(alpha);
        Vector<float> shift0 = bias is null ? default : *(Vector<float>*)bias, shift1 = bias is null ? default : *(Vector<float>*)(bias + lanes);
        Store(c00, c01, scale, shift0, shift1, c, lanes, accumulate);
        Store(c10, c11, scale, shift0, shift1, c + ldc, lanes, accumulate);
        Store(c20, c21, scale, shift0, shift1, c + 2 * ldc, lanes, accumulate);
        if (THeight.Full)
        {
            Store(c30, c31, scale, shift0, shift1, c + 3 * ldc, lanes, accumulate);
            Store(c40, c41, scale, shift0, shift1, c + 4 * ldc, lanes, accumulate);
            Store(c50, c51, scale, shift0, shift1, c + 5 * ldc, lanes, accumulate);
        }
    }

    /// <summary>One row of the tile: both vectors scaled, shifted by the bias and, when accumulating, added to C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector<float> left, Vector<float> right, Vector<float> scale, Vector<float> shift0, Vector<float> shift1,
        float* row, int lanes, bool accumulate)
    {
        Vector<float> first = left * scale + shift0, second = right * scale + shift1;
        if (accumulate)
        {
            first += *(Vector<float>*)row;
            second += *(Vector<float>*)(row + lanes);
        }
        *(Vector<float>*)row = first;
        *(Vector<float>*)(row + lanes) = second;
    }
}
