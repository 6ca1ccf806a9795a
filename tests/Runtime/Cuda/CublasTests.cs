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
        float[] a = [.. Enumerable.Range(0, batch * m * k).Select(_ => random.NextSingle() * 2 - 1)];
        float[] b = [.. Enumerable.Range(0, batch * k * n).Select(_ => random.NextSingle() * 2 - 1)];
        float[] expected = new float[batch * m * n];
        int lda = transposeA ? m : k, ldb = transposeB ? k : n;
        fixed (float* pa = a, pb = b, pe = expected)
            for (int i = 0; i < batch; i++)
                SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pa + i * m * k, lda, transposeA),
                    new GemmOperand(pb + i * k * n, ldb, transposeB), 0, pe + i * m * n, n);
        using Tensor da = Tensor.FromSpan<float>(a, [a.Length]).ToDevice(Device.Cuda(0));
        using Tensor db = Tensor.FromSpan<float>(b, [b.Length]).ToDevice(Device.Cuda(0));
        using Tensor dc = Tensor.Zeros([expected.Length]).ToDevice(Device.Cuda(0));
        Cublas.GemmStridedBatched(0, transposeA, transposeB, m, n, k, 1,
            Address(da), lda, m * k, Address(db), ldb, k * n, 0, Address(dc), n, m * n, batch);
        using Tensor back = dc.ToDevice(Device.Cpu);
        Assert.That(back.ToFloatArray(), Is.EqualTo(expected).Within(Tolerance));
    }

    private static ulong Address(Tensor tensor) => ((DeviceStorage)tensor.Storage).DevicePointer;
}
