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
        for (int ir = 0; ir < mc; ir += rows)
        {
            int valid = Math.Min(rows, mc - ir);
            float* sliver = destination + (long)ir * kc;
            if (a.Transposed)
            {
                // Stored K×M: each k gives `valid` consecutive floats.
                for (int p = 0; p < kc; p++)
                {
                    float* source = a.Data + (p0 + p) * a.LeadingDimension + i0 + ir;
                    float* target = sliver + p * rows;
                    int r = 0;
                    for (; r < valid; r++) target[r] = source[r];
                    for (; r < rows; r++) target[r] = 0;
                }
            }
            else
            {
                // Stored M×K: read each row contiguously, write it with stride `rows`.
                for (int r = 0; r < rows; r++)
                {
                    float* target = sliver + r;
                    if (r >= valid)
                    {
                        for (int p = 0; p < kc; p++) target[p * rows] = 0;
                        continue;
                    }
                    float* source = a.Data + (i0 + ir + r) * a.LeadingDimension + p0;
                    for (int p = 0; p < kc; p++) target[p * rows] = source[p];
                }
            }
        }
    }

    /// <summary>Packs op(B)[p0..p0+kc, j0..j0+nc] into <paramref name="destination"/>.</summary>
    public static void PackB(GemmOperand b, long p0, int kc, long j0, int nc, int columns, float* destination)
    {
        for (int jr = 0; jr < nc; jr += columns)
        {
            int valid = Math.Min(columns, nc - jr);
            float* sliver = destination + (long)jr * kc;
            if (!b.Transposed)
            {
                // Stored K×N: each k gives `valid` consecutive floats.
                for (int p = 0; p < kc; p++)
                {
                    float* source = b.Data + (p0 + p) * b.LeadingDimension + j0 + jr;
                    float* target = sliver + p * columns;
                    new ReadOnlySpan<float>(source, valid).CopyTo(new Span<float>(target, valid));
                    if (valid < columns) new Span<float>(target + valid, columns - valid).Clear();
                }
            }
            else
            {
                // Stored N×K (a weight [out, in]): read each column's k run contiguously.
                for (int j = 0; j < columns; j++)
                {
                    float* target = sliver + j;
                    if (j >= valid)
                    {
                        for (int p = 0; p < kc; p++) target[p * columns] = 0;
                        continue;
                    }
                    float* source = b.Data + (j0 + jr + j) * b.LeadingDimension + p0;
                    for (int p = 0; p < kc; p++) target[p * columns] = source[p];
                }
            }
        }
    }
}
