using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>How a cuBLAS GEMM multiplies float32 data: exactly in fp32, or with TF32 tensor cores (fp32 accumulation).</summary>
public enum GemmPrecision
{
    Float32,
    TensorFloat32,

    /// <summary>A and B hold bfloat16 (tensor cores); C and the accumulation are float32.</summary>
    BFloat16Inputs,
}

/// <summary>
/// cuBLAS, checked. Its version can be read without a GPU. GEMMs here take row-major operands, as the rest
/// of the runtime stores them: cuBLAS is column-major, and a row-major matrix is the column-major matrix of
/// its transpose, so C = op(A)·op(B) is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ with the operands swapped.
/// </summary>
public static unsafe class Cublas
{
    private static readonly Dictionary<int, (nint Handle, nint Stream)> handles = [];
    private static readonly Lock gate = new();

    public static bool IsAvailable => NativeLibraries.Cublas.IsLoaded;

    public static Version Version()
    {
        NativeLibraries.Require(NativeLibraries.Cublas);
        return new Version(Property(CublasApi.MajorVersion), Property(CublasApi.MinorVersion), Property(CublasApi.PatchLevel));
    }

    /// <summary>
    /// Row-major C[m×n] = alpha·op(A)·op(B) + beta·C on <paramref name="device"/> (device pointers; op(A) is m×k,
    /// stored k×m when <paramref name="transposeA"/>; op(B) is k×n, stored n×k when <paramref name="transposeB"/>).
    /// Queued where every launch of the runtime goes (<see cref="CaptureStream"/>). Without <paramref name="precision"/>,
    /// float32 operands multiply as this thread's <see cref="Float32Gemms"/> says.
    /// </summary>
    public static void Gemm(int device, bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ulong a, int lda, ulong b, int ldb, float beta, ulong c, int ldc, GemmPrecision? precision = null)
    {
        GemmPrecision math = precision ?? Float32Gemms.Precision;
        nint handle = Handle(device);
        using KernelProfile.Bracket timed = KernelProfile.IsOpen ? KernelProfile.Time(device, CaptureStream.For(device), $"cuBLAS {math} {m}×{n}×{k}") : default;
        Check(CublasApi.cublasGemmEx(handle,
            transposeB ? CublasApi.OperationTranspose : CublasApi.OperationNone,
            transposeA ? CublasApi.OperationTranspose : CublasApi.OperationNone,
            n, m, k, &alpha, b, InputType(math), ldb, a, InputType(math), lda,
            &beta, c, CublasApi.DataFloat, ldc, ComputeType(math), CublasApi.GemmDefault), "cublasGemmEx");
    }

    /// <summary><see cref="Gemm"/> over <paramref name="batch"/> matrices at fixed element strides (e.g. attention heads).</summary>
    public static void GemmStridedBatched(int device, bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch,
        GemmPrecision? precision = null)
    {
        GemmPrecision math = precision ?? Float32Gemms.Precision;
        nint handle = Handle(device);
        using KernelProfile.Bracket timed = KernelProfile.IsOpen ? KernelProfile.Time(device, CaptureStream.For(device), $"cuBLAS {math} {batch}×({m}×{n}×{k})") : default;
        Check(CublasApi.cublasGemmStridedBatchedEx(handle,
            transposeB ? CublasApi.OperationTranspose : CublasApi.OperationNone,
            transposeA ? CublasApi.OperationTranspose : CublasApi.OperationNone,
            n, m, k, &alpha, b, InputType(math), ldb, strideB, a, InputType(math), lda, strideA,
            &beta, c, CublasApi.DataFloat, ldc, strideC, batch, ComputeType(math), CublasApi.GemmDefault), "cublasGemmStridedBatchedEx");
    }

    /// <summary>
    /// One cuBLAS handle per device, created in its primary context on first use and kept for the process, set to the
    /// stream the calling thread queues work on (<see cref="CaptureStream"/>) whenever that changes. Setting the stream
    /// resets cuBLAS to its default workspace pool (which would allocate inside captured graphs, on every stream it
    /// meets), so the lane's own workspace (<see cref="GemmWorkspace"/>) is set again after. One handle serves one
    /// thread's work at a time: the runtime queues a device's work from one thread.
    /// </summary>
    private static nint Handle(int device)
    {
        NativeLibraries.Require(NativeLibraries.Cublas);
        CudaDriver.MakeCurrent(device);
        nint stream = CaptureStream.For(device);
        lock (gate)
        {
            if (!handles.TryGetValue(device, out (nint Handle, nint Stream) known))
            {
                CaptureStream.Refuse(device, "creating the cuBLAS handle");
                Check(CublasApi.cublasCreate(out nint created), "cublasCreate");
                known = (created, -1);
            }
            if (known.Stream != stream)
            {
                Check(CublasApi.cublasSetStream(known.Handle, stream), "cublasSetStream");
                Check(CublasApi.cublasSetWorkspace(known.Handle, GemmWorkspace.For(device), (nuint)GemmWorkspace.Bytes), "cublasSetWorkspace");
                known = known with { Stream = stream };
            }
            handles[device] = known;
            return known.Handle;
        }
    }

    internal static int ComputeType(GemmPrecision precision) =>
        precision == GemmPrecision.TensorFloat32 ? CublasApi.Compute32FFastTf32 : CublasApi.Compute32F;

    internal static int InputType(GemmPrecision precision) =>
        precision == GemmPrecision.BFloat16Inputs ? CublasApi.DataBFloat16 : CublasApi.DataFloat;

    private static int Property(int property)
    {
        int status = CublasApi.cublasGetProperty(property, out int value);
        Check(status, "cublasGetProperty");
        return value;
    }

    internal static void Check(int status, string call)
    {
        if (status != 0)
            throw new CudaException(call, status, StatusName(status));
    }

    private static string StatusName(int status) => status switch
    {
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"CUBLAS_STATUS_{status}",
    };
}
