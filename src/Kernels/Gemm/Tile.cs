namespace ReClip.Kernels.Gemm;

/// <summary>A register tile and its cache blocking: MC×KC of A fits L2, a KC×Columns sliver of B fits L1.</summary>
internal readonly unsafe struct Tile(int rows, int columns, int mc, int kc, int nc,
    delegate*<int, float*, float*, float*, long, float, bool, float*, void> kernel)
{
    public int Rows { get; } = rows;

    public int Columns { get; } = columns;

    public int Mc { get; } = mc;

    public int Kc { get; } = kc;

    public int Nc { get; } = nc;

    public delegate*<int, float*, float*, float*, long, float, bool, float*, void> Kernel { get; } = kernel;

    public static Tile Wide { get; } = new(MicroKernel12x32.Rows, MicroKernel12x32.Columns, mc: 144, kc: 256, nc: 3072, &MicroKernel12x32.Run);

    public static Tile Narrow { get; } = new(MicroKernel6x16.Rows, MicroKernel6x16.Columns, mc: 72, kc: 256, nc: 3072, &MicroKernel6x16.Run);

    public static Tile For(SgemmKernel kernel) => (kernel == SgemmKernel.Auto ? Sgemm.ActiveKernel : kernel) == SgemmKernel.Avx512 ? Wide : Narrow;
}
