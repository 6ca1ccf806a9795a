namespace ReClip.Kernels.Gemm;

/// <summary>
/// The definition of SGEMM, plainly: C = alpha·op(A)·op(B) + beta·C (+ bias[j] per column), with
/// op(A) M×K and op(B) K×N, row-major. Accumulates in double so the fast paths are compared against
/// a value with far less rounding than their own.
/// </summary>
public static unsafe class SgemmReference
{
    public static void Multiply(int m, int n, int k, float alpha, GemmOperand a, GemmOperand b, float beta, float* c, long ldc, float* bias = null)
    {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++)
            {
                double sum = 0;
                for (long p = 0; p < k; p++)
                    sum += (double)a[i, p] * b[p, j];
                double previous = beta == 0 ? 0 : beta * (double)c[i * ldc + j];
                double shift = bias is null ? 0 : bias[j];
                c[i * ldc + j] = (float)(alpha * sum + previous + shift);
            }
    }
}
