namespace ReClip.Kernels.Gemm;

/// <summary>
/// How many rows of its tile a micro-kernel computes. The kernels are generic over it so that the JIT compiles the
/// full tile and its half as two specialised bodies from one source: the half skips the upper rows' multiply-adds,
/// which an edge sliver (the ViT's 197 rows end in 5 of a 12-row tile) would otherwise compute and throw away.
/// </summary>
internal interface ITileHeight
{
    static abstract bool Full { get; }
}

/// <summary>Every row of the tile.</summary>
internal readonly struct FullHeight : ITileHeight
{
    public static bool Full => true;
}

/// <summary>The first half of the tile's rows; the A sliver keeps the full tile's layout.</summary>
internal readonly struct HalfHeight : ITileHeight
{
    public static bool Full => false;
}
