using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using ReClip.Runtime.Platform;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Gemm;

/// <summary>Which register tile the fast SGEMM runs; <see cref="Auto"/> picks the widest the CPU accelerates.</summary>
public enum SgemmKernel
{
    Auto,
    Avx512,
    Avx2,

    /// <summary>Vector&lt;T&gt; at the CPU's own width, for CPUs with neither of the others (SSE only, Arm).</summary>
    Portable,
}

/// <summary>
/// Packed, cache-blocked, multithreaded SGEMM: C = alpha·op(A)·op(B) + beta·C (+ bias[j] per column),
/// row-major, op(A) M×K, op(B) K×N. The loop nest is the classic one (Goto/BLIS): a KC×NC panel of B
/// is packed once per (jc, pc) and stays in L2/L3, an MC×KC block of A is packed into L2, and the
/// micro-kernel streams A slivers past one B sliver held in L1. Work is split over the compute pool by
/// column ranges when N is wide (the ViT's shapes), else by row ranges. <see cref="SgemmReference"/>
/// is the definition it is tested against.
/// </summary>
public static unsafe class Sgemm
{
    /// <summary>Below this many multiply-adds a GEMM runs on one thread: waking the pool would cost more.</summary>
    private const long ParallelThreshold = 1 << 20;

    /// <summary>
    /// What packing one element costs, in multiply-adds of the micro-kernel: gathering an element into its sliver takes
    /// about 4 cycles on Zen 3, in which the kernel does 64 multiply-adds (2 FMA of 8 lanes per cycle).
    /// </summary>
    private const double PackCost = 64;

    public static SgemmKernel ActiveKernel => CpuInfo.Simd switch
    {
        SimdLevel.Avx512 => SgemmKernel.Avx512,
        SimdLevel.Avx2Fma => SgemmKernel.Avx2,
        _ => SgemmKernel.Portable,
    };

    public static void Multiply(int m, int n, int k, float alpha, GemmOperand a, GemmOperand b, float beta, float* c, long ldc,
        float* bias = null, SgemmKernel kernel = SgemmKernel.Auto, ComputePool? pool = null)
    {
        Validate(m, n, k, a, b, ldc);
        Run(new Job(Tile.For(kernel), m, n, k, alpha, a, b, null, beta, c, ldc, bias), pool);
    }

    /// <summary>
    /// The same product with B packed beforehand (<see cref="PackedMatrix"/>): a frozen weight is packed once
    /// instead of on every call, which is most of the memory traffic of a GEMM with few rows (the ViT's 197 tokens).
    /// </summary>
    public static void Multiply(int m, float alpha, GemmOperand a, PackedMatrix b, float beta, float* c, long ldc,
        float* bias = null, ComputePool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        Validate(m, b.Columns, b.Depth, a, null, ldc);
        Run(new Job(b.Tile, m, b.Columns, b.Depth, alpha, a, default, b, beta, c, ldc, bias), pool);
    }

    private static void Run(Job job, ComputePool? pool)
    {
        if (job.IsEmpty) return;
        ComputePool threads = pool ?? ComputePool.Shared;
        threads.Run(job.Partition(job.MultiplyAdds < ParallelThreshold ? 1 : threads.Threads), job);
    }

    /// <summary>
    /// <paramref name="batch"/> independent GEMMs whose operands sit at fixed element strides, e.g. the
    /// heads of attention. Each matrix is run by <see cref="Multiply"/>, so large ones still use every thread.
    /// </summary>
    public static void MultiplyBatched(int batch, int m, int n, int k, float alpha, GemmOperand a, long strideA, GemmOperand b, long strideB,
        float beta, float* c, long ldc, long strideC, SgemmKernel kernel = SgemmKernel.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        for (int i = 0; i < batch; i++)
            Multiply(m, n, k, alpha,
                new GemmOperand(a.Data + i * strideA, a.LeadingDimension, a.Transposed),
                new GemmOperand(b.Data + i * strideB, b.LeadingDimension, b.Transposed),
                beta, c + i * strideC, ldc, kernel: kernel);
    }

    /// <summary>Sizes non-negative and every leading dimension at least the row it strides over (B is skipped when packed).</summary>
    private static void Validate(int m, int n, int k, GemmOperand a, GemmOperand? b, long ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"sgemm: negative size M={m} N={n} K={k}");
        long aColumns = a.Transposed ? m : k;
        long ldb = b?.LeadingDimension ?? n, bColumns = b is { Transposed: true } ? k : n;
        if (a.LeadingDimension < Math.Max(1, aColumns) || ldb < Math.Max(1, bColumns) || ldc < Math.Max(1, n))
            throw new ArgumentException($"sgemm: leading dimensions lda={a.LeadingDimension} ldb={ldb} ldc={ldc} are too small for M={m} N={n} K={k}");
    }

    private sealed class Job(Tile tile, int m, int n, int k, float alpha, GemmOperand a, GemmOperand b, PackedMatrix? packed,
        float beta, float* c, long ldc, float* bias) : IParallelJob
    {
        [ThreadStatic] private static PackBuffers? buffers;

        private bool splitColumns;
        private int chunk;

        public bool IsEmpty => m == 0 || n == 0;

        public long MultiplyAdds => (long)m * n * k;

        /// <summary>
        /// Chooses column or row ranges, in whole slivers, and returns how many tasks that makes. Each thread packs
        /// all of A when the columns are split and all of B (unless packed beforehand) when the rows are: the split
        /// with the lesser work per thread, packing included, wins. A prepacked weight of few columns and a long K
        /// (fc2: 197 × 3072 → 768) thus splits by rows (158 against 140 GFLOP/s on two Zen 3 cores), a wide one
        /// (qkv: 197 × 768 → 2304) by columns: its 144 column slivers halve exactly, its 33 row slivers do not.
        /// </summary>
        public int Partition(int threads)
        {
            int columnSlivers = (n + tile.Columns - 1) / tile.Columns;
            int rowSlivers = (m + tile.Rows - 1) / tile.Rows;
            long columnChunk = Math.Min(n, (columnSlivers + threads - 1) / threads * tile.Columns);
            long rowChunk = Math.Min(m, (rowSlivers + threads - 1) / threads * tile.Rows);
            long packsB = packed is null ? 1 : 0;
            double byColumns = (double)m * k * columnChunk + PackCost * ((double)m * k + packsB * k * columnChunk);
            double byRows = (double)rowChunk * k * n + PackCost * ((double)rowChunk * k + packsB * (double)k * n);
            splitColumns = byColumns <= byRows;
            int slivers = splitColumns ? columnSlivers : rowSlivers;
            int tasks = Math.Min(threads, slivers);
            chunk = (slivers + tasks - 1) / tasks * (splitColumns ? tile.Columns : tile.Rows);
            int extent = splitColumns ? n : m;
            return (extent + chunk - 1) / chunk;
        }

        public void Execute(int task)
        {
            int start = task * chunk;
            if (splitColumns)
                Blocked(0, m, start, Math.Min(n, start + chunk));
            else
                Blocked(start, Math.Min(m, start + chunk), 0, n);
        }

        private void Blocked(int rowStart, int rowEnd, int columnStart, int columnEnd)
        {
            if (beta != 0 && beta != 1)
                ScaleC(rowStart, rowEnd, columnStart, columnEnd, beta);
            if (k == 0)
            {
                if (beta == 0) ScaleC(rowStart, rowEnd, columnStart, columnEnd, 0);
                AddBias(rowStart, rowEnd, columnStart, columnEnd);
                return;
            }
            PackBuffers pack = buffers ??= new PackBuffers();
            // Sized for this task's blocks, not the tile's largest: a small product keeps a small buffer.
            int depth = SgemmPacking.Padded(Math.Min(tile.Kc, k));
            long blockRows = Math.Min(tile.Mc, tile.PaddedRows(rowEnd - rowStart));
            long panelColumns = Math.Min(tile.Nc, tile.PaddedColumns(columnEnd - columnStart));
            float* packedA = pack.A(blockRows * depth);
            float* packedB = packed is null ? pack.B(panelColumns * depth) : null;
            float* edge = pack.Edge(tile.Rows * tile.Columns);
            for (int jc = columnStart; jc < columnEnd; jc += tile.Nc)
            {
                int nc = Math.Min(tile.Nc, columnEnd - jc);
                for (int pc = 0; pc < k; pc += tile.Kc)
                {
                    int kc = Math.Min(tile.Kc, k - pc), steps = SgemmPacking.Padded(kc);
                    bool accumulate = pc > 0 || beta != 0;
                    float* panelBias = pc == 0 && bias is not null ? bias + jc : null;
                    float* panelB = packed is null ? packedB : packed.Panel(pc, jc);
                    if (packed is null)
                        SgemmPacking.PackB(b, pc, kc, jc, nc, tile.Columns, packedB);
                    for (int ic = rowStart; ic < rowEnd; ic += tile.Mc)
                    {
                        int mc = Math.Min(tile.Mc, rowEnd - ic);
                        SgemmPacking.PackA(a, ic, mc, pc, kc, tile.Rows, packedA);
                        for (int jr = 0; jr < nc; jr += tile.Columns)
                        {
                            int nr = Math.Min(tile.Columns, nc - jr);
                            float* sliverB = panelB + (long)jr * steps;
                            float* tileBias = panelBias is null ? null : panelBias + jr;
                            for (int ir = 0; ir < mc; ir += tile.Rows)
                            {
                                int mr = Math.Min(tile.Rows, mc - ir);
                                float* target = c + (ic + ir) * ldc + jc + jr;
                                float* sliverA = packedA + (long)ir * steps;
                                if (mr == tile.Rows && nr == tile.Columns)
                                    tile.Kernel(steps, sliverA, sliverB, target, ldc, alpha, accumulate, tileBias);
                                else
                                    EdgeTile(steps, sliverA, sliverB, target, mr, nr, accumulate, tileBias, edge);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// A partial tile: the kernel writes a full tile to scratch (its first half only, when the rows fit there), then
        /// the valid part is merged into C.
        /// </summary>
        private void EdgeTile(int kc, float* sliverA, float* sliverB, float* target, int mr, int nr, bool accumulate, float* tileBias, float* scratch)
        {
            var kernel = mr <= tile.Rows / 2 ? tile.HalfKernel : tile.Kernel;
            kernel(kc, sliverA, sliverB, scratch, tile.Columns, alpha, false, null);
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < nr; j++)
                {
                    float value = scratch[i * tile.Columns + j] + (tileBias is null ? 0 : tileBias[j]);
                    target[i * ldc + j] = accumulate ? target[i * ldc + j] + value : value;
                }
        }

        private void ScaleC(int rowStart, int rowEnd, int columnStart, int columnEnd, float factor)
        {
            for (long i = rowStart; i < rowEnd; i++)
            {
                var row = new Span<float>(c + i * ldc + columnStart, columnEnd - columnStart);
                if (factor == 0) row.Clear();
                else TensorPrimitives.Multiply(row, factor, row);
            }
        }

        private void AddBias(int rowStart, int rowEnd, int columnStart, int columnEnd)
        {
            if (bias is null) return;
            var shift = new ReadOnlySpan<float>(bias + columnStart, columnEnd - columnStart);
            for (long i = rowStart; i < rowEnd; i++)
            {
                var row = new Span<float>(c + i * ldc + columnStart, columnEnd - columnStart);
                TensorPrimitives.Add(row, shift, row);
            }
        }
    }

    /// <summary>Per-thread packing space, 64-byte aligned, grown on demand and kept for the thread's life.</summary>
    private sealed class PackBuffers
    {
        private readonly float*[] blocks = new float*[3];
        private readonly long[] sizes = new long[3];

        public float* A(long floats) => Get(0, floats);

        public float* B(long floats) => Get(1, floats);

        public float* Edge(long floats) => Get(2, floats);

        private float* Get(int slot, long floats)
        {
            if (sizes[slot] < floats)
            {
                NativeMemory.AlignedFree(blocks[slot]);
                blocks[slot] = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
                sizes[slot] = floats;
            }
            return blocks[slot];
        }
    }
}
