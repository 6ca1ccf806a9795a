using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// GEMMs whose bias is added by cuBLASLt's epilogue as the product is stored, instead of by a second pass over the
/// output: on an H100 those passes were 5% of the image tower's time (four per block). Row-major operands, swapped
/// into cuBLAS's column-major order as <see cref="Cublas"/> does. Each shape's plan (descriptors, and the algorithm
/// the heuristic picks) is made once per process and kept; the shapes of a model are few.
/// </summary>
public static unsafe class CublasLt
{
    /// <summary>The scratch memory cuBLASLt may use per device (cuBLAS's own default on Hopper).</summary>
    public const long WorkspaceBytes = 32L << 20;

    private sealed record Plan(nint Description, nint A, nint B, nint D, ulong[] Algorithm);

    /// <summary>A plan holds for one shape, precision, output type and pointer alignment (the heuristic may pick by alignment).</summary>
    private readonly record struct Key(int Device, bool TransposeA, bool TransposeB, int M, int N, int K, int Lda, int Ldb, int Ldc,
        GemmPrecision Precision, bool BFloat16Output, int Alignment);

    private static readonly Dictionary<Key, Plan?> plans = [];
    private static readonly Dictionary<int, (nint Handle, DeviceStorage Workspace)> devices = [];
    private static readonly Lock gate = new();

    public static bool IsAvailable => NativeLibraries.CublasLt.IsLoaded;

    /// <summary>The library's version (cublasLtGetVersion: major·10000 + minor·100 + patch); readable without a GPU.</summary>
    public static Version Version()
    {
        NativeLibraries.Require(NativeLibraries.CublasLt);
        long version = (long)CublasLtApi.cublasLtGetVersion();
        return new Version((int)(version / 10000), (int)(version / 100 % 100), (int)(version % 100));
    }

    /// <summary>
    /// Row-major C[m×n] = op(A)·op(B) + beta·C + bias, the bias [n] added to every row (operands as in
    /// <see cref="Cublas.Gemm"/>; C is read in place with <paramref name="beta"/> 1, e.g. a residual stream the product
    /// is added to). C is float32, or bfloat16 with <paramref name="bfloat16Output"/> (the sums still float32, rounded as
    /// they are stored); the bias has C's type, cuBLASLt's default. Returns false, having queued nothing, when cuBLASLt is
    /// missing or has no algorithm for the shape: the caller then computes it another way.
    /// </summary>
    public static bool TryGemmBias(int device, bool transposeA, bool transposeB, int m, int n, int k, ulong a, int lda, ulong b, int ldb,
        ulong c, int ldc, ulong bias, GemmPrecision precision = GemmPrecision.Float32, float beta = 0, bool bfloat16Output = false)
    {
        if (!IsAvailable)
            return false;
        CudaDriver.MakeCurrent(device);
        var key = new Key(device, transposeA, transposeB, m, n, k, lda, ldb, ldc, precision, bfloat16Output, Alignment(a | b | c | bias));
        lock (gate)
        {
            if (!plans.TryGetValue(key, out Plan? plan))
                plans[key] = plan = MakePlan(key, bias);
            if (plan is null)
                return false;
            (nint handle, DeviceStorage workspace) = Resources(device);
            SetAttribute(plan.Description, CublasLtApi.DescBiasPointer, bias);
            float alpha = 1;
            using KernelProfile.Bracket timed = KernelProfile.IsOpen
                ? KernelProfile.Time(device, CaptureStream.For(device), $"cuBLASLt {precision} {m}×{n}×{k} + bias{(beta == 0 ? "" : " + C")}") : default;
            fixed (ulong* algorithm = plan.Algorithm)
                Cublas.Check(CublasLtApi.cublasLtMatmul(handle, plan.Description, &alpha, b, plan.A, a, plan.B, &beta, c, plan.D, c, plan.D,
                    algorithm, workspace.DevicePointer, (nuint)WorkspaceBytes, CaptureStream.For(device)), "cublasLtMatmul");
        }
        return true;
    }

    /// <summary>The largest power of two up to 16 bytes that divides every address (cuBLASLt's vector widths).</summary>
    private static int Alignment(ulong addresses) => (int)Math.Min(16, addresses == 0 ? 16 : addresses & (~addresses + 1));

    private static Plan? MakePlan(Key key, ulong bias)
    {
        (nint handle, _) = Resources(key.Device);
        Cublas.Check(CublasLtApi.cublasLtMatmulDescCreate(out nint description, Cublas.ComputeType(key.Precision), CublasApi.DataFloat), "cublasLtMatmulDescCreate");
        SetAttribute(description, CublasLtApi.DescTransposeA, key.TransposeB ? CublasApi.OperationTranspose : CublasApi.OperationNone);
        SetAttribute(description, CublasLtApi.DescTransposeB, key.TransposeA ? CublasApi.OperationTranspose : CublasApi.OperationNone);
        SetAttribute(description, CublasLtApi.DescEpilogue, CublasLtApi.EpilogueBias);
        SetAttribute(description, CublasLtApi.DescBiasPointer, bias);
        int input = Cublas.InputType(key.Precision);
        // Column-major views of the row-major operands: B (stored n×k when transposed) is cuBLASLt's A, A is its B.
        nint a = Layout(input, key.TransposeB ? key.K : key.N, key.TransposeB ? key.N : key.K, key.Ldb);
        nint b = Layout(input, key.TransposeA ? key.M : key.K, key.TransposeA ? key.K : key.M, key.Lda);
        nint d = Layout(key.BFloat16Output ? CublasApi.DataBFloat16 : CublasApi.DataFloat, key.N, key.M, key.Ldc);
        Cublas.Check(CublasLtApi.cublasLtMatmulPreferenceCreate(out nint preference), "cublasLtMatmulPreferenceCreate");
        ulong workspace = WorkspaceBytes;
        CublasLtApi.HeuristicResult result;
        int returned;
        try
        {
            Cublas.Check(CublasLtApi.cublasLtMatmulPreferenceSetAttribute(preference, CublasLtApi.PreferenceMaxWorkspaceBytes, &workspace, sizeof(ulong)),
                "cublasLtMatmulPreferenceSetAttribute");
            int status = CublasLtApi.cublasLtMatmulAlgoGetHeuristic(handle, description, a, b, d, d, preference, 1, &result, out returned);
            if (status != 0)
                returned = 0;
        }
        finally
        {
            CublasLtApi.cublasLtMatmulPreferenceDestroy(preference);
        }
        if (returned == 0)
        {
            CublasLtApi.cublasLtMatrixLayoutDestroy(a);
            CublasLtApi.cublasLtMatrixLayoutDestroy(b);
            CublasLtApi.cublasLtMatrixLayoutDestroy(d);
            CublasLtApi.cublasLtMatmulDescDestroy(description);
            return null;
        }
        return new Plan(description, a, b, d, [.. new ReadOnlySpan<ulong>(result.Algorithm, 8)]);
    }

    private static nint Layout(int type, int rows, int columns, int leadingDimension)
    {
        Cublas.Check(CublasLtApi.cublasLtMatrixLayoutCreate(out nint layout, type, (ulong)rows, (ulong)columns, leadingDimension), "cublasLtMatrixLayoutCreate");
        return layout;
    }

    private static void SetAttribute(nint description, int attribute, int value) =>
        Cublas.Check(CublasLtApi.cublasLtMatmulDescSetAttribute(description, attribute, &value, sizeof(int)), "cublasLtMatmulDescSetAttribute");

    private static void SetAttribute(nint description, int attribute, ulong pointer) =>
        Cublas.Check(CublasLtApi.cublasLtMatmulDescSetAttribute(description, attribute, &pointer, sizeof(ulong)), "cublasLtMatmulDescSetAttribute");

    /// <summary>The handle and the workspace of a device, made on first use and kept for the process (under the lock).</summary>
    private static (nint Handle, DeviceStorage Workspace) Resources(int device)
    {
        if (devices.TryGetValue(device, out var resources))
            return resources;
        CaptureStream.Refuse(device, "creating the cuBLASLt handle");
        Cublas.Check(CublasLtApi.cublasLtCreate(out nint handle), "cublasLtCreate");
        resources = (handle, DeviceStorage.Allocate(Device.Cuda(device), WorkspaceBytes));
        devices[device] = resources;
        return resources;
    }
}
