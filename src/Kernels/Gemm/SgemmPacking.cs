using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ReClip.Kernels.Gemm;

/// <summary>
/// Copies blocks of A and B into the order the micro-kernel reads them: A in slivers of
/// <c>rows</c> rows (for each k, the sliver's rows side by side), B in slivers of <c>columns</c>
/// columns (for each k, the sliver's columns side by side). Slivers past the matrix edge are zero
/// padded, so the micro-kernel never needs a remainder loop over k or within a tile.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] into <paramref name="destination"/>.</summary>
    public static void PackA(GemmOperand a, long i0, int mc, long p0, int kc, int rows, float* destination)
    {
        float** source = stackalloc float*[rows];
        for (int ir = 0; ir < mc; ir += rows)
        {
            int valid = Math.Min(rows, mc - ir);
            float* sliver = destination + (long)ir * kc;
            if (a.Transposed)
            {
                // Stored K×M: each k gives `valid` consecutive floats.
                for (int p = 0; p < kc; p++)
                {
                    float* column = a.Data + (p0 + p) * a.LeadingDimension + i0 + ir;
                    float* target = sliver + p * rows;
                    int r = 0;
                    for (; r < valid; r++) target[r] = column[r];
                    for (; r < rows; r++) target[r] = 0;
                }
            }
            else
            {
                // Stored M×K: walk k once and gather the sliver's rows, so the writes are sequential and the
                // reads are `rows` sequential streams the prefetchers follow.
                for (int r = 0; r < valid; r++)
                    source[r] = a.Data + (i0 + ir + r) * a.LeadingDimension + p0;
                Gather(source, valid, rows, kc, sliver, lastSliver: ir + rows >= mc);
            }
        }
    }

    /// <summary>Packs op(B)[p0..p0+kc, j0..j0+nc] into <paramref name="destination"/>.</summary>
    public static void PackB(GemmOperand b, long p0, int kc, long j0, int nc, int columns, float* destination)
    {
        if (!b.Transposed)
        {
            PackRowMajorB(b, p0, kc, j0, nc, columns, destination);
            return;
        }
        float** source = stackalloc float*[columns];
        for (int jr = 0; jr < nc; jr += columns)
        {
            int valid = Math.Min(columns, nc - jr);
            float* sliver = destination + (long)jr * kc;
            // Stored N×K (a weight [out, in]): gather the sliver's columns for each k, as PackA does for rows.
            for (int j = 0; j < valid; j++)
                source[j] = b.Data + (j0 + jr + j) * b.LeadingDimension + p0;
            Gather(source, valid, columns, kc, sliver, lastSliver: jr + columns >= nc);
        }
    }

    /// <summary>
    /// sliver[p·width + r] = source[r][p] for p &lt; kc, r &lt; width (0 for r ≥ valid): <paramref name="valid"/>
    /// streams along k dealt out side by side. With AVX, 8 k steps of 8 streams at a time are loaded as 8 vectors
    /// and transposed in registers (8 stores of 8 instead of 64 scalar moves; packing the activations was ~10 % of
    /// a ViT linear layer's time at 197 rows). A width that is not a multiple of 8 (the 6- and 12-row tiles) stores 8
    /// floats per k anyway: the extra ones land where a later store writes, except after the last k of the last
    /// sliver, whose tail is stored element by element.
    /// </summary>
    private static void Gather(float** source, int valid, int width, int kc, float* sliver, bool lastSliver)
    {
        int p = 0;
        if (Avx.IsSupported)
        {
            var block = stackalloc Vector256<float>[8];
            for (; p + 8 <= kc; p += 8)
            {
                bool finalBlock = lastSliver && p + 8 == kc;
                // Highest group first: a partial group's extra floats spill into the next k's first group, stored after.
                for (int group = (width - 1) / 8 * 8; group >= 0; group -= 8)
                {
                    for (int r = 0; r < 8; r++)
                        block[r] = group + r < valid ? Vector256.Load(source[group + r] + p) : Vector256<float>.Zero;
                    Transpose8x8(block);
                    for (int k = 0; k < 8; k++)
                    {
                        float* target = sliver + (long)(p + k) * width + group;
                        int count = Math.Min(8, width - group);
                        if (count == 8 || !(finalBlock && k == 7 && group + 8 >= width))
                            Vector256.Store(block[k], target);
                        else
                            for (int r = 0; r < count; r++) target[r] = block[k][r];
                    }
                }
            }
        }
        for (; p < kc; p++)
        {
            float* target = sliver + (long)p * width;
            int r = 0;
            for (; r < valid; r++) target[r] = source[r][p];
            for (; r < width; r++) target[r] = 0;
        }
    }

    /// <summary>The 8×8 block of rows m[0..7] becomes its transpose in place: m[k][r] = old m[r][k].</summary>
    private static void Transpose8x8(Vector256<float>* m)
    {
        Vector256<float> t0 = Avx.UnpackLow(m[0], m[1]), t1 = Avx.UnpackHigh(m[0], m[1]);
        Vector256<float> t2 = Avx.UnpackLow(m[2], m[3]), t3 = Avx.UnpackHigh(m[2], m[3]);
        Vector256<float> t4 = Avx.UnpackLow(m[4], m[5]), t5 = Avx.UnpackHigh(m[4], m[5]);
        Vector256<float> t6 = Avx.UnpackLow(m[6], m[7]), t7 = Avx.UnpackHigh(m[6], m[7]);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        m[0] = Avx.Permute2x128(u0, u4, 0x20);
        m[1] = Avx.Permute2x128(u1, u5, 0x20);
        m[2] = Avx.Permute2x128(u2, u6, 0x20);
        m[3] = Avx.Permute2x128(u3, u7, 0x20);
        m[4] = Avx.Permute2x128(u0, u4, 0x31);
        m[5] = Avx.Permute2x128(u1, u5, 0x31);
        m[6] = Avx.Permute2x128(u2, u6, 0x31);
        m[7] = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>
    /// B stored K×N: row by row, each k row dealt out to every sliver. Walking sliver by sliver instead reads one
    /// cache line from each of kc rows a whole B row apart, which misses the TLB on wide B (the input-gradient
    /// products dy·W of the text tower's backward, W [out, in] as stored, measured 2–3× slower to pack).
    /// </summary>
    private static void PackRowMajorB(GemmOperand b, long p0, int kc, long j0, int nc, int columns, float* destination)
    {
        int width = Vector256<float>.Count;
        for (int p = 0; p < kc; p++)
        {
            float* row = b.Data + (p0 + p) * b.LeadingDimension + j0;
            for (int jr = 0; jr < nc; jr += columns)
            {
                int valid = Math.Min(columns, nc - jr);
                float* source = row + jr, target = destination + (long)jr * kc + (long)p * columns;
                int j = 0;
                for (; j + width <= valid; j += width)
                    Vector256.Store(Vector256.Load(source + j), target + j);
                for (; j < valid; j++) target[j] = source[j];
                for (; j < columns; j++) target[j] = 0;
            }
        }
    }
}
