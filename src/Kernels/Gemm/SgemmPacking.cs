using System.Runtime.Intrinsics;

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
                for (int p = 0; p < kc; p++)
                {
                    float* target = sliver + p * rows;
                    int r = 0;
                    for (; r < valid; r++) target[r] = source[r][p];
                    for (; r < rows; r++) target[r] = 0;
                }
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
            for (int p = 0; p < kc; p++)
            {
                float* target = sliver + p * columns;
                int j = 0;
                for (; j < valid; j++) target[j] = source[j][p];
                for (; j < columns; j++) target[j] = 0;
            }
        }
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
