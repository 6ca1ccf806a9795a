namespace ReClip.Kernels.Gemm;

/// <summary>
/// A register tile and its cache blocking. The narrow tile keeps the textbook sizes, measured on Zen 3: a KC×Columns
/// sliver of B in L1, MC×KC of A in L2, KC 256 ahead of 384. The wide tile was measured on Zen 4 (32 KB L1, 1 MB L2):
/// a KC of 1024 (one pass over C for the ViT's K of 768, two for 2048³) beat 256 by 4–5 % on 2048³ and 2–3 % on the
/// ViT's fc shapes; its 128 KB B sliver then lives in L2, which feeds one 512-bit multiply-add per cycle with room to
/// spare, and C is read and written a quarter as often. MC 72 keeps the A block (288 KB) in L2 beside it.
/// </summary>
internal readonly unsafe struct Tile(int rows, int columns, int mc, int kc, int nc,
    delegate*<int, float*, float*, float*, long, float, bool, float*, void> kernel,
    delegate*<int, float*, float*, float*, long, float, bool, float*, void> halfKernel)
{
    public int Rows { get; } = rows;

    public int Columns { get; } = columns;

    public int Mc { get; } = mc;

    public int Kc { get; } = kc;

    public int Nc { get; } = nc;

    public delegate*<int, float*, float*, float*, long, float, bool, float*, void> Kernel { get; } = kernel;

    /// <summary><paramref name="rows"/> rounded up to whole row slivers: what packing A takes for them.</summary>
    public long PaddedRows(int rows) => (rows + Rows - 1L) / Rows * Rows;

    /// <summary><paramref name="columns"/> rounded up to whole column slivers: what packing B takes for them.</summary>
    public long PaddedColumns(int columns) => (columns + Columns - 1L) / Columns * Columns;

    /// <summary>The kernel on the first Rows / 2 rows only, for an edge sliver that has no more.</summary>
    public delegate*<int, float*, float*, float*, long, float, bool, float*, void> HalfKernel { get; } = halfKernel;

    public static Tile Wide { get; } = new(MicroKernel12x32.Rows, MicroKernel12x32.Columns, mc: 72, kc: 1024, nc: 1024,
        &MicroKernel12x32.Run<FullHeight>, &MicroKernel12x32.Run<HalfHeight>);

    public static Tile Narrow { get; } = new(MicroKernel6x16.Rows, MicroKernel6x16.Columns, mc: 72, kc: 256, nc: 3072,
        &MicroKernel6x16.Run<FullHeight>, &MicroKernel6x16.Run<HalfHeight>);

    public static Tile Portable { get; } = new(MicroKernel6xVector.Rows, MicroKernel6xVector.Columns, mc: 72, kc: 256, nc: 3072,
        &MicroKernel6xVector.Run<FullHeight>, &MicroKernel6xVector.Run<HalfHeight>);

    public static Tile For(SgemmKernel kernel) => (kernel == SgemmKernel.Auto ? Sgemm.ActiveKernel : kernel) switch
    {
        SgemmKernel.Avx512 => Wide,
        SgemmKernel.Avx2 => Narrow,
        _ => Portable,
    };
}
