using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Benchmarks;

/// <summary>GFLOP/s of our SGEMM on square n × n × n products (2n³ flops each), the kernel behind every linear layer.</summary>
public static unsafe class SgemmThroughput
{
    public const int DefaultSize = 1024;

    public static double GigaFlops(int n, TimeSpan minimumTime)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        using Tensor a = RandomInputs.UnitRows(n, n, 3), b = RandomInputs.UnitRows(n, n, 4), c = Tensor.Zeros([n, n]);
        float* pa = a.Pointer<float>(), pb = b.Pointer<float>(), pc = c.Pointer<float>();
        double calls = Throughput.PerSecond(() => Sgemm.Multiply(n, n, n, 1, new GemmOperand(pa, n, false), new GemmOperand(pb, n, false), 0, pc, n),
            warmupCalls: 3, minimumCalls: 3, minimumTime);
        return calls * 2.0 * n * n * n / 1e9;
    }
}
