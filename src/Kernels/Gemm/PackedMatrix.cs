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
    private readonly long capacity;
    private long paddedColumns;
    private bool disposed;

    private PackedMatrix(Tile tile, int depth, int columns)
    {
        Tile = tile;
        Resize(depth, columns);
        capacity = Math.Max(1, SgemmPacking.Padded(depth) * paddedColumns);
        data = (float*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(float)), 64);
    }

    /// <summary>K, the inner dimension.</summary>
    public int Depth { get; private set; }

    /// <summary>N, the number of output columns.</summary>
    public int Columns { get; private set; }

    internal Tile Tile { get; }

    /// <summary>Packs op(B) (K×N; a linear weight [N, K] is passed transposed) for the given (or the active) kernel.</summary>
    public static PackedMatrix Pack(GemmOperand b, int depth, int columns, SgemmKernel kernel = SgemmKernel.Auto)
    {
        CheckOperand(b, depth, columns);
        var packed = new PackedMatrix(Tile.For(kernel), depth, columns);
        packed.Fill(b);
        return packed;
    }

    /// <summary>
    /// Packs op(B) for the active kernel into <paramref name="cached"/> when its buffer holds it, else into a new matrix
    /// left there: for operands packed on every call that are used by many GEMMs (attention's keys and values of one
    /// head, multiplied block of queries by block), without an allocation each time.
    /// </summary>
    internal static PackedMatrix Repack(ref PackedMatrix? cached, GemmOperand b, int depth, int columns)
    {
        CheckOperand(b, depth, columns);
        Tile tile = Tile.For(SgemmKernel.Auto);
        long paddedColumns = tile.PaddedColumns(columns);
        if (cached is null || cached.disposed || cached.Tile.Rows != tile.Rows || cached.capacity < SgemmPacking.Padded(depth) * paddedColumns)
        {
            cached?.Dispose();
            cached = new PackedMatrix(tile, depth, columns);
        }
        else
            cached.Resize(depth, columns);
        cached.Fill(b);
        return cached;
    }

    private static void CheckOperand(GemmOperand b, int depth, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (b.LeadingDimension < Math.Max(1, b.Transposed ? depth : columns))
            throw new ArgumentException($"PackedMatrix: leading dimension {b.LeadingDimension} is too small for K={depth} N={columns}");
    }

    private void Resize(int depth, int columns)
    {
        Depth = depth;
        Columns = columns;
        paddedColumns = Tile.PaddedColumns(columns);
    }

    private void Fill(GemmOperand b)
    {
        for (int pc = 0; pc < Depth; pc += Tile.Kc)
            SgemmPacking.PackB(b, pc, Math.Min(Tile.Kc, Depth - pc), 0, Columns, Tile.Columns, data + pc * paddedColumns);
    }

    /// <summary>The packed panel of the KC block starting at row <paramref name="pc"/>, from column <paramref name="jc"/> (a sliver boundary).</summary>
    internal float* Panel(int pc, int jc)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        int kc = Math.Min(Tile.Kc, Depth - pc);
        return data + pc * paddedColumns + (long)jc * SgemmPacking.Padded(kc);
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
