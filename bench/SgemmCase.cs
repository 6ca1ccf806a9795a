using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Bench;

/// <summary>C[M×N] = A[M×K]·B, with B either K×N or (a linear layer's weight) N×K used transposed.</summary>
public sealed unsafe class SgemmCase : ICompareCase
{
    private readonly Tensor a, b, c;
    private readonly int m, n, k;
    private readonly bool weightLayout;

    public SgemmCase(int m, int n, int k, bool weightLayout)
    {
        (this.m, this.n, this.k, this.weightLayout) = (m, n, k, weightLayout);
        var random = new Random(0);
        a = Filled([m, k], random);
        b = Filled(weightLayout ? [n, k] : [k, n], random);
        c = Tensor.Zeros([m, n]);
    }

    public int WarmupCalls => 30;

    public double GigaFlop => 2.0 * m * n * k / 1e9;

    public void Run() =>
        Sgemm.Multiply(m, n, k, 1, new GemmOperand(a.Pointer<float>(), k, false),
            new GemmOperand(b.Pointer<float>(), weightLayout ? k : n, weightLayout), 0, c.Pointer<float>(), n);

    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
        c.Dispose();
    }

    internal static Tensor Filled(int[] shape, Random random)
    {
        Tensor t = Tensor.Empty(shape);
        foreach (ref float x in t.AsSpan<float>())
            x = (float)(random.NextDouble() * 2 - 1);
        return t;
    }
}
