using ReClip.Kernels.Gemm;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>cuBLAS through the row-major wrapper, against the CPU reference (skipped without a GPU).</summary>
[TestFixture]
public sealed unsafe class CublasTests
{
    // float32 GEMMs of length 37 over values in [−1, 1]: a few ulps of results below ~6.
    private const float Tolerance = 2e-5f;

    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void StridedBatchedGemmMatchesTheReference(bool transposeA, bool transposeB)
    {
        Requires.CudaDevice();
        const int batch = 3, m = 5, n = 7, k = 37;
        var random = new Random(3);
        float[] a = Uniform(random, batch * m * k);
        float[] b = Uniform(random, batch * k * n);
        float[] expected = new float[batch * m * n];
        int lda = transposeA ? m : k, ldb = transposeB ? k : n;
        fixed (float* pa = a, pb = b, pe = expected)
            for (int i = 0; i < batch; i++)
                SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pa + i * m * k, lda, transposeA),
                    new GemmOperand(pb + i * k * n, ldb, transposeB), 0, pe + i * m * n, n);
        using Tensor da = OnGpu(a);
        using Tensor db = OnGpu(b);
        using Tensor dc = ZerosOnGpu(expected.Length);
        Cublas.GemmStridedBatched(0, transposeA, transposeB, m, n, k, 1,
            Address(da), lda, m * k, Address(db), ldb, k * n, 0, Address(dc), n, m * n, batch);
        using Tensor back = dc.ToDevice(Device.Cpu);
        Assert.That(back.ToFloatArray(), Is.EqualTo(expected).Within(Tolerance));
    }

    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void TunedGemmsMatchTheReference(bool transposeA, bool transposeB)
    {
        Requires.CudaDevice();
        const int m = 134, n = 96, k = 37;
        const float alpha = 0.5f, beta = 1;
        var random = new Random(4);
        float[] a = Uniform(random, m * k);
        float[] b = Uniform(random, k * n);
        float[] c = Uniform(random, m * n);
        float[] bias = Uniform(random, n);
        float[] expected = (float[])c.Clone(), withBias = new float[m * n];
        int lda = transposeA ? m : k, ldb = transposeB ? k : n;
        fixed (float* pa = a, pb = b, pe = expected, pw = withBias, pbias = bias)
        {
            SgemmReference.Multiply(m, n, k, alpha, new GemmOperand(pa, lda, transposeA), new GemmOperand(pb, ldb, transposeB), beta, pe, n);
            SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pa, lda, transposeA), new GemmOperand(pb, ldb, transposeB), 0, pw, n, pbias);
        }
        using Tensor da = OnGpu(a);
        using Tensor db = OnGpu(b);
        using Tensor dc = OnGpu(c);
        using Tensor dbias = OnGpu(bias);
        using Tensor dw = ZerosOnGpu(m * n);
        bool tuning = CublasLt.Tuning;
        CublasLt.Tuning = true;
        try
        {
            Assert.That(CublasLt.TryGemm(0, transposeA, transposeB, m, n, k, alpha, Address(da), lda, Address(db), ldb, beta, Address(dc), n), Is.True);
            Assert.That(CublasLt.TryGemmBias(0, transposeA, transposeB, m, n, k, Address(da), lda, Address(db), ldb, Address(dw), n, Address(dbias)), Is.True);
        }
        finally
        {
            CublasLt.Tuning = tuning;
        }
        using Tensor back = dc.ToDevice(Device.Cpu), backWithBias = dw.ToDevice(Device.Cpu);
        Assert.That(back.ToFloatArray(), Is.EqualTo(expected).Within(Tolerance), "C read once although the tuning ran the product many times");
        Assert.That(backWithBias.ToFloatArray(), Is.EqualTo(withBias).Within(Tolerance));
        Assert.That(CublasLt.Tuning || !CublasLt.TryGemm(0, transposeA, transposeB, m, n, k, alpha, Address(da), lda, Address(db), ldb, beta, Address(dc), n),
            "untuned, a GEMM without a bias is cuBLAS's");
    }

    /// <summary>
    /// In a <see cref="Float32Gemms.TensorFloat32"/> scope both GEMM paths (cuBLAS, and cuBLASLt with its bias epilogue) run on
    /// the TF32 tensor cores: their results leave float32's (the operands lose 13 mantissa bits, so some of 134×96 sums of
    /// 512 products must change) and stay within TF32's error, about 2⁻¹⁰·√K here (MatMulCheck's bound, 2e-3·√K).
    /// </summary>
    [Test]
    public void TensorFloat32ScopesMultiplyOnTheTensorCores()
    {
        Requires.CudaDevice();
        CudaDeviceInfo card = CudaDriver.Describe(0);
        if (card.ComputeMajor < 8)
            Assert.Ignore($"{card.Name} has no TF32 tensor cores");
        const int m = 134, n = 96, k = 512;
        var random = new Random(5);
        float[] a = Uniform(random, m * k);
        float[] b = Uniform(random, n * k);
        float[] bias = Uniform(random, n);
        float[] expected = new float[m * n], withBias = new float[m * n];
        fixed (float* pa = a, pb = b, pe = expected, pw = withBias, pbias = bias)
        {
            SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pa, k, false), new GemmOperand(pb, k, true), 0, pe, n);
            SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pa, k, false), new GemmOperand(pb, k, true), 0, pw, n, pbias);
        }
        using Tensor da = OnGpu(a);
        using Tensor db = OnGpu(b);
        using Tensor dbias = OnGpu(bias);
        using Tensor exact = ZerosOnGpu(m * n), tf32 = ZerosOnGpu(m * n);
        using Tensor exactWithBias = ZerosOnGpu(m * n), tf32WithBias = ZerosOnGpu(m * n);
        Cublas.Gemm(0, false, true, m, n, k, 1, Address(da), k, Address(db), k, 0, Address(exact), n);
        bool epilogue = CublasLt.TryGemmBias(0, false, true, m, n, k, Address(da), k, Address(db), k, Address(exactWithBias), n, Address(dbias));
        using (Float32Gemms.TensorFloat32())
        {
            Cublas.Gemm(0, false, true, m, n, k, 1, Address(da), k, Address(db), k, 0, Address(tf32), n);
            epilogue &= CublasLt.TryGemmBias(0, false, true, m, n, k, Address(da), k, Address(db), k, Address(tf32WithBias), n, Address(dbias));
        }
        Assert.That(Float32Gemms.Precision, Is.EqualTo(GemmPrecision.Float32), "the scope restores float32");
        float[] fromExact = exact.ToFloatArray(), fromTensorCores = tf32.ToFloatArray();
        float[] biasedExact = exactWithBias.ToFloatArray(), biasedTensorCores = tf32WithBias.ToFloatArray();
        float tolerance = (float)(2e-3 * Math.Sqrt(k));
        Assert.Multiple(() =>
        {
            Assert.That(epilogue, Is.True, "cuBLASLt plans these GEMMs with their bias in float32 and in TF32");
            Assert.That(fromExact, Is.EqualTo(expected).Within(Tolerance * 10), "cuBLAS in float32 outside the scope");
            Assert.That(fromTensorCores, Is.EqualTo(expected).Within(tolerance), "cuBLAS in TF32");
            Assert.That(fromTensorCores.Zip(fromExact).Count(pair => pair.First != pair.Second), Is.GreaterThan(0), "TF32 changes some of cuBLAS's sums");
            Assert.That(biasedExact, Is.EqualTo(withBias).Within(Tolerance * 10), "cuBLASLt in float32 outside the scope");
            Assert.That(biasedTensorCores, Is.EqualTo(withBias).Within(tolerance), "cuBLASLt in TF32");
            Assert.That(biasedTensorCores.Zip(biasedExact).Count(pair => pair.First != pair.Second), Is.GreaterThan(0), "TF32 changes some of cuBLASLt's sums");
        });
    }

    /// <summary><paramref name="count"/> values in [−1, 1].</summary>
    private static float[] Uniform(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => random.NextSingle() * 2 - 1)];

    private static Tensor OnGpu(float[] values) => Tensor.FromSpan<float>(values, [values.Length]).ToDevice(Device.Cuda(0));

    private static Tensor ZerosOnGpu(int count) => Tensor.Zeros([count]).ToDevice(Device.Cuda(0));

    private static ulong Address(Tensor tensor) => ((DeviceStorage)tensor.Storage).DevicePointer;
}
