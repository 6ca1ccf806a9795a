using System.Runtime.InteropServices;

namespace ReClip.Kernels.Gemm;

/// <summary>
/// The B operand of a GEMM (K×N), packed once into the micro-kernel's sliver order for every KC block of K:
/// block p holds all ⌈N/Columns⌉ slivers of that block side by side, so the (pc, jc) panel any thread needs is
/// a pointer into it. For frozen weights (CLIP's linear layers) this takes the packing of B out of every call.
/// </summary>
public sealed unsafe class PackedMatrix : IDisposable
{
    private readonly float* data;
    private readonly long paddedColumns;
    private bool disposed;

    private PackedMatrix(Tile tile, int depth, int columns)
    {
        Tile = tile;
        Depth = depth;
        Columns = columns;
        paddedColumns = (columns + tile.Columns - 1) / tile.Columns * (long)tile.Columns;
        data = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, depth * paddedColumns) * sizeof(float)), 64);
    }

    /// <summary>K, the inner dimension.</summary>
    public int Depth { get; }

    /// <summary>N, the number of output columns.</summary>
    public int Columns { get; }

    internal Tile Tile { get; }

    /// <summary>Packs op(B) (K×N; a linear weight [N, K] is passed transposed) for the given (or the active) kernel.</summary>
    public static PackedMatrix Pack(GemmOperand b, int depth, int columns, SgemmKernel kernel = SgemmKernel.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (b.LeadingDimension < Math.Max(1, b.Transposed ? depth : columns))
            throw new ArgumentException($"PackedMatrix: leading dimension {b.LeadingDimension} is too small for K={depth} N={columns}");
        var packed = new PackedMatrix(Tile.For(kernel), depth, columns);
        for (int pc = 0; pc < depth; pc += packed.Tile.Kc)
            SgemmPacking.PackB(b, pc, Math.Min(packed.Tile.Kc, depth - pc), 0, columns, packed.Tile.Columns, packed.data + pc * packed.paddedColumns);
        return packed;
    }

    /// <summary>The packed panel of the KC block starting at row <paramref name="pc"/>, from column <paramref name="jc"/> (a sliver boundary).</summary>
    internal float* Panel(int pc, int jc)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        int kc = Math.Min(Tile.Kc, Depth - pc);
        return data + pc * paddedColumns + (long)jc * kc;
    }

    /// <summary>Packed copies of frozen weights are often cached for a weight's lifetime, so the finalizer frees them too.</summary>
    ~PackedMatrix() => Release();

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        if (disposed) return;
        disposed = true;
        NativeMemory.AlignedFree(data);
    }
}
