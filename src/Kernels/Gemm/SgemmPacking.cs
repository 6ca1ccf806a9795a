using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ReClip.Kernels.Gemm;

/// <summary>
/// Copies blocks of A and B into the order the micro-kernel reads them: A in slivers of
/// <c>rows</c> rows (for each k, the sliver's rows side by side), B in slivers of <c>columns</c>
/// columns (for each k, the sliver's columns side by side). Slivers past the matrix edge are zero
/// padded, and every sliver holds <see cref="Padded"/>(kc) k steps, the extra ones zero, so the micro-kernels never
/// need a remainder loop over k or within a tile.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>The k steps a packed sliver holds for <paramref name="kc"/> of A or B: a multiple of the micro-kernels' unroll of 4.</summary>
    public static int Padded(int kc) => (kc + 3) & ~3;

    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] into <paramref name="destination"/>.</summary>
    public static void PackA(GemmOperand a, long i0, int mc, long p0, int kc, int rows, float* destination)
    {
        float** source = stackalloc float*[rows];
        int steps = Padded(kc);
        for (int ir = 0; ir < mc; ir += rows)
        {
            int valid = Math.Min(rows, mc - ir);
            float* sliver = destination + (long)ir * steps;
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
            ZeroSteps(sliver, kc, steps, rows);
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
        int steps = Padded(kc);
        for (int jr = 0; jr < nc; jr += columns)
        {
            int valid = Math.Min(columns, nc - jr);
            float* sliver = destination + (long)jr * steps;
            // Stored N×K (a weight [out, in]): gather the sliver's columns for each k, as PackA does for rows.
            for (int j = 0; j < valid; j++)
                source[j] = b.Data + (j0 + jr + j) * b.LeadingDimension + p0;
            Gather(source, valid, columns, kc, sliver, lastSliver: jr + columns >= nc);
            ZeroSteps(sliver, kc, steps, columns);
        }
    }

    /// <summary>Steps kc…steps − 1 of a sliver <paramref name="width"/> wide are zero: they add nothing to any sum.</summary>
    private static void ZeroSteps(float* sliver, int kc, int steps, int width) =>
        new Span<float>(sliver + (long)kc * width, (steps - kc) * width).Clear();

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
            for (; p + 8 <= kc; p += 8)
            {
                bool finalBlock = lastSliver && p + 8 == kc;
                // Highest group first: a partial group's extra floats spill into the next k's first group, stored after.
                for (int group = (width - 1) / 8 * 8; group >= 0; group -= 8)
                    TransposeBlock(source + group, valid - group, p, sliver + (long)p * width + group, width,
                        Math.Min(8, width - group), finalBlock);
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

    /// <summary>
    /// Streams source[0..valid) (zeros past valid) at p..p+8 become 8 rows of floats at target, target + width, …:
    /// an 8 × 8 transpose held in registers (unpack, shuffle, 128-bit permute), so each float is loaded and stored
    /// once. The last row keeps to <paramref name="count"/> floats, element by element, in the final block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeBlock(float** source, int valid, int p, float* target, int width, int count, bool finalBlock)
    {
        Vector256<float> m0 = Stream(source, 0, valid, p), m1 = Stream(source, 1, valid, p);
        Vector256<float> m2 = Stream(source, 2, valid, p), m3 = Stream(source, 3, valid, p);
        Vector256<float> m4 = Stream(source, 4, valid, p), m5 = Stream(source, 5, valid, p);
        Vector256<float> m6 = Stream(source, 6, valid, p), m7 = Stream(source, 7, valid, p);
        Vector256<float> t0 = Avx.UnpackLow(m0, m1), t1 = Avx.UnpackHigh(m0, m1);
        Vector256<float> t2 = Avx.UnpackLow(m2, m3), t3 = Avx.UnpackHigh(m2, m3);
        Vector256<float> t4 = Avx.UnpackLow(m4, m5), t5 = Avx.UnpackHigh(m4, m5);
        Vector256<float> t6 = Avx.UnpackLow(m6, m7), t7 = Avx.UnpackHigh(m6, m7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Vector256.Store(Avx.Permute2x128(u0, u4, 0x20), target);
        Vector256.Store(Avx.Permute2x128(u1, u5, 0x20), target + width);
        Vector256.Store(Avx.Permute2x128(u2, u6, 0x20), target + 2 * width);
        Vector256.Store(Avx.Permute2x128(u3, u7, 0x20), target + 3 * width);
        Vector256.Store(Avx.Permute2x128(u0, u4, 0x31), target + 4 * width);
        Vector256.Store(Avx.Permute2x128(u1, u5, 0x31), target + 5 * width);
        Vector256.Store(Avx.Permute2x128(u2, u6, 0x31), target + 6 * width);
        Vector256<float> last = Avx.Permute2x128(u3, u7, 0x31);
        if (count == 8 || !finalBlock)
            Vector256.Store(last, target + 7 * width);
        else
            for (int r = 0; r < count; r++) target[7 * width + r] = last.GetElement(r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Stream(float** source, int r, int valid, int p) =>
        r < valid ? Vector256.Load(source[r] + p) : Vector256<float>.Zero;

    /// <summary>
    /// B stored K×N: row by row, each k row dealt out to every sliver. Walking sliver by sliver instead reads one
    /// cache line from each of kc rows a whole B row apart, which misses the TLB on wide B (the input-gradient
    /// products dy·W of the text tower's backward, W [out, in] as stored, measured 2–3× slower to pack).
    /// </summary>
    private static void PackRowMajorB(GemmOperand b, long p0, int kc, long j0, int nc, int columns, float* destination)
    {
        int width = Vector256<float>.Count, steps = Padded(kc);
        for (int p = 0; p < kc; p++)
        {
            float* row = b.Data + (p0 + p) * b.LeadingDimension + j0;
            for (int jr = 0; jr < nc; jr += columns)
            {
                int valid = Math.Min(columns, nc - jr);
                float* source = row + jr, target = destination + (long)jr * steps + (long)p * columns;
                int j = 0;
                for (; j + width <= valid; j += width)
                    Vector256.Store(Vector256.Load(source + j), target + j);
                for (; j < valid; j++) target[j] = source[j];
                for (; j < columns; j++) target[j] = 0;
            }
        }
        for (int jr = 0; jr < nc; jr += columns)
            ZeroSteps(destination + (long)jr * steps, kc, steps, columns);
    }
}
