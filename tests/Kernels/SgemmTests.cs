using ReClip.Kernels.Gemm;
using ReClip.Runtime.Threading;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed unsafe class SgemmTests
{
    /// <summary>
    /// Forward error bound of a float32 dot product of length K accumulated in any order:
    /// |fl(x·y) − x·y| ≤ K·u·Σ|x_i·y_i| with u = 2^-24; we allow twice that, plus one rounding of the result.
    /// </summary>
    private static double Bound(int k, double absoluteDot, double value) => 2.0 * k * Math.Pow(2, -24) * absoluteDot + Math.Pow(2, -23) * Math.Abs(value) + 1e-30;

    private const float BatchedTolerance = 1e-5f;

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static void Check(SgemmKernel kernel, int m, int n, int k, bool transA, bool transB, float alpha, float beta, bool withBias, int threads = 2)
    {
        // Leading dimensions one larger than needed, so stride handling is exercised too.
        long lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 1, ldc = n + 3;
        float[] a = Random((int)((transA ? k : m) * lda), 1), b = Random((int)((transB ? n : k) * ldb), 2);
        float[] c = Random((int)(m * ldc), 3), bias = Random(n, 4);
        float[] expected = (float[])c.Clone();
        using var pool = new ComputePool(threads);
        fixed (float* pa = a, pb = b, pc = c, pe = expected, pbias = bias)
        {
            var opA = new GemmOperand(pa, lda, transA);
            var opB = new GemmOperand(pb, ldb, transB);
            SgemmReference.Multiply(m, n, k, alpha, opA, opB, beta, pe, ldc, withBias ? pbias : null);
            Sgemm.Multiply(m, n, k, alpha, opA, opB, beta, pc, ldc, withBias ? pbias : null, kernel, pool);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double absoluteDot = 0;
                    for (int p = 0; p < k; p++) absoluteDot += Math.Abs(opA[i, p] * opB[p, j]);
                    absoluteDot = Math.Abs(alpha) * absoluteDot + Math.Abs(beta * c[i * ldc + j]) + (withBias ? Math.Abs(bias[j]) : 0);
                    double error = Math.Abs(pc[i * ldc + j] - pe[i * ldc + j]);
                    if (error > Bound(k, absoluteDot, pe[i * ldc + j]))
                        Assert.Fail($"C[{i},{j}] = {pc[i * ldc + j]} but the reference is {pe[i * ldc + j]} (error {error:E2})");
                }
            for (int i = 0; i < m; i++)
                for (long j = n; j < ldc; j++)
                    Assert.That(pc[i * ldc + j], Is.EqualTo(c[i * ldc + j]), "padding past N is never written");
        }
    }

    private static IEnumerable<TestCaseData> Shapes()
    {
        // Last row slivers of every height: within the half tile (1, 13 and 37 rows on every tile, 5, 6 and 150 on the
        // 12-row one), past it (5 rows on the 6-row tiles; 151 in the column-split test below on the 12-row one) and none
        // (6, 12 and 150 on the 6-row tiles, 12 on the 12-row one); K across the k blocks of every tile (1030).
        int[][] shapes = [[1, 1, 1], [5, 7, 3], [6, 16, 8], [12, 32, 9], [13, 33, 300], [37, 70, 257], [150, 40, 520], [13, 1060, 1030]];
        foreach (SgemmKernel kernel in new[] { SgemmKernel.Avx2, SgemmKernel.Avx512, SgemmKernel.Portable })
            foreach (int[] s in shapes)
                foreach (bool transA in new[] { false, true })
                    foreach (bool transB in new[] { false, true })
                        yield return new TestCaseData(kernel, s[0], s[1], s[2], transA, transB).SetArgDisplayNames(
                            kernel.ToString(), $"{s[0]}x{s[1]}x{s[2]}", transA ? "At" : "A", transB ? "Bt" : "B");
    }

    [TestCaseSource(nameof(Shapes))]
    public void MatchesTheReference(SgemmKernel kernel, int m, int n, int k, bool transA, bool transB) =>
        Check(kernel, m, n, k, transA, transB, alpha: 1, beta: 0, withBias: false);

    [TestCase(SgemmKernel.Avx2, 0.5f, 1f, true)]
    [TestCase(SgemmKernel.Avx2, -2f, 0.25f, false)]
    [TestCase(SgemmKernel.Avx2, 1f, 0f, true)]
    [TestCase(SgemmKernel.Avx512, 0.5f, 1f, true)]
    [TestCase(SgemmKernel.Avx512, -2f, 0.25f, true)]
    [TestCase(SgemmKernel.Portable, -2f, 0.25f, true)]
    public void AlphaBetaAndBiasEpilogue(SgemmKernel kernel, float alpha, float beta, bool withBias) =>
        Check(kernel, 29, 45, 300, transA: false, transB: true, alpha, beta, withBias);

    [TestCase(1)]
    [TestCase(3)]
    public void ThreadCountDoesNotChangeTheResult(int threads) =>
        Check(Sgemm.ActiveKernel, 100, 200, 64, transA: false, transB: true, 1, 0, withBias: true, threads);

    // Few columns and many rows, above the parallel threshold: the work is split by row ranges, not columns.
    [TestCase(SgemmKernel.Avx2)]
    [TestCase(SgemmKernel.Avx512)]
    [TestCase(SgemmKernel.Portable)]
    public void RowSplitAcrossThreadsMatchesTheReference(SgemmKernel kernel) =>
        Check(kernel, 600, 16, 128, transA: false, transB: true, 1, 0.5f, withBias: true, threads: 3);

    // Wide enough to be split by columns across the threads (each task packing all of A); more than one k block for
    // either tile (256 or 1024 deep), and 151 rows are a whole number of neither the blocks (72 rows) nor the tiles (6
    // or 12 rows).
    [TestCase(SgemmKernel.Avx2, false, 2)]
    [TestCase(SgemmKernel.Avx2, true, 3)]
    [TestCase(SgemmKernel.Avx512, false, 3)]
    [TestCase(SgemmKernel.Avx512, true, 2)]
    [TestCase(SgemmKernel.Portable, true, 2)]
    public void ColumnSplitAcrossThreadsMatchesTheReference(SgemmKernel kernel, bool transA, int threads) =>
        Check(kernel, 151, 600, kernel == SgemmKernel.Avx512 ? 1100 : 600, transA, transB: true, 0.5f, 0.25f, withBias: true, threads);

    [Test]
    public void EmptyInnerDimensionGivesBetaCPlusBias() =>
        Check(SgemmKernel.Avx2, 4, 5, 0, transA: false, transB: false, 1, 0.5f, withBias: true);

    [TestCase(SgemmKernel.Avx2, 1, 1, 1)]
    [TestCase(SgemmKernel.Avx2, 37, 70, 600)]
    [TestCase(SgemmKernel.Avx2, 197, 130, 300)]
    [TestCase(SgemmKernel.Avx2, 37, 640, 300)] // few row slivers and many columns: split by columns
    [TestCase(SgemmKernel.Avx512, 29, 45, 300)]
    [TestCase(SgemmKernel.Avx512, 29, 1060, 1030)] // two k blocks and two column panels of the wide tile
    [TestCase(SgemmKernel.Portable, 37, 70, 600)]
    public void PrepackedWeightsGiveBitwiseTheSameProduct(SgemmKernel kernel, int m, int n, int k)
    {
        // A linear layer: x [m, k] times a weight [n, k] used transposed, with a bias; the packed path must run the
        // very same arithmetic as packing on every call, so the results are identical, not merely close.
        float[] x = Random(m * k, 11), weight = Random(n * k, 12), bias = Random(n, 13);
        float[] direct = new float[m * n], prepacked = new float[m * n];
        using var pool = new ComputePool(2);
        fixed (float* px = x, pw = weight, pb = bias, pd = direct, pp = prepacked)
        {
            var opB = new GemmOperand(pw, k, true);
            Sgemm.Multiply(m, n, k, 1, new GemmOperand(px, k, false), opB, 0, pd, n, pb, kernel, pool);
            using PackedMatrix packed = PackedMatrix.Pack(opB, k, n, kernel);
            Sgemm.Multiply(m, 1, new GemmOperand(px, k, false), packed, 0, pp, n, pb, pool);
        }
        Assert.That(prepacked, Is.EqualTo(direct));
    }

    [Test]
    public void RepackingACachedMatrixGivesTheProductOfAFreshPack()
    {
        // A cached packed matrix is refilled in place when the new operand fits its buffer and replaced when it does
        // not; either way the product is bitwise that of packing the operand anew.
        PackedMatrix? cached = null;
        try
        {
            foreach ((int m, int n, int k) in new[] { (13, 300, 70), (9, 40, 33), (21, 520, 290) })
            {
                float[] x = Random(m * k, m), weight = Random(n * k, n);
                float[] fresh = new float[m * n], reused = new float[m * n];
                fixed (float* px = x, pw = weight, pf = fresh, pr = reused)
                {
                    var opB = new GemmOperand(pw, k, true);
                    PackedMatrix? before = cached;
                    PackedMatrix repacked = PackedMatrix.Repack(ref cached, opB, k, n);
                    Assert.That(ReferenceEquals(repacked, before), Is.EqualTo(before is not null && (m, n, k) == (9, 40, 33)), "buffer reused only when it fits");
                    using PackedMatrix packed = PackedMatrix.Pack(opB, k, n);
                    Sgemm.Multiply(m, 1, new GemmOperand(px, k, false), packed, 0, pf, n);
                    Sgemm.Multiply(m, 1, new GemmOperand(px, k, false), repacked, 0, pr, n);
                }
                Assert.That(reused, Is.EqualTo(fresh), $"{m}x{n}x{k}");
            }
        }
        finally
        {
            cached?.Dispose();
        }
    }

    [Test]
    public void BatchedRunsEachMatrix()
    {
        const int batch = 3, m = 9, n = 17, k = 11;
        float[] a = Random(batch * m * k, 5), b = Random(batch * k * n, 6);
        float[] c = new float[batch * m * n], expected = new float[batch * m * n];
        fixed (float* pa = a, pb = b, pc = c, pe = expected)
        {
            Sgemm.MultiplyBatched(batch, m, n, k, 1, new GemmOperand(pa, k, false), m * k, new GemmOperand(pb, n, false), k * n, 0, pc, n, m * n);
            for (int i = 0; i < batch; i++)
                SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pa + i * m * k, k, false), new GemmOperand(pb + i * k * n, n, false), 0, pe + i * m * n, n);
        }
        // k = 11 products of values in [−1, 1]: float32 against the double reference differs by a few ulps of ~3.
        Assert.That(c, Is.EqualTo(expected).Within(BatchedTolerance));
    }

    [Test]
    public void TooSmallLeadingDimensionIsRefused()
    {
        float* p = stackalloc float[16];
        nint address = (nint)p;
        var e = Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(2, 4, 4, 1, new GemmOperand((float*)address, 3, false), new GemmOperand((float*)address, 4, false), 0, (float*)address, 4));
        Assert.That(e!.Message, Does.Contain("lda=3"));
    }
}
