using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>Raw cuBLAS entry points (cublas_api.h, library_types.h). Call through <see cref="Cublas"/>.</summary>
internal static unsafe partial class CublasApi
{
    public const int MajorVersion = 0;
    public const int MinorVersion = 1;
    public const int PatchLevel = 2;

    public const int OperationNone = 0;
    public const int OperationTranspose = 1;

    public const int DataFloat = 0;      // CUDA_R_32F
    public const int DataBFloat16 = 14;  // CUDA_R_16BF

    public const int Compute32F = 68;          // CUBLAS_COMPUTE_32F
    public const int Compute32FFastTf32 = 77;  // CUBLAS_COMPUTE_32F_FAST_TF32

    public const int GemmDefault = -1;         // CUBLAS_GEMM_DEFAULT

    [LibraryImport(NativeLibraries.CublasName)]
    public static partial int cublasGetProperty(int property, out int value);

    [LibraryImport(NativeLibraries.CublasName, EntryPoint = "cublasCreate_v2")]
    public static partial int cublasCreate(out nint handle);

    [LibraryImport(NativeLibraries.CublasName, EntryPoint = "cublasDestroy_v2")]
    public static partial int cublasDestroy(nint handle);

    [LibraryImport(NativeLibraries.CublasName, EntryPoint = "cublasSetStream_v2")]
    public static partial int cublasSetStream(nint handle, nint stream);

    [LibraryImport(NativeLibraries.CublasName, EntryPoint = "cublasSetWorkspace_v2")]
    public static partial int cublasSetWorkspace(nint handle, ulong workspace, nuint bytes);

    [LibraryImport(NativeLibraries.CublasName)]
    public static partial int cublasGemmEx(nint handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int aType, int lda, ulong b, int bType, int ldb,
        float* beta, ulong c, int cType, int ldc, int computeType, int algorithm);

    [LibraryImport(NativeLibraries.CublasName)]
    public static partial int cublasGemmStridedBatchedEx(nint handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int aType, int lda, long strideA, ulong b, int bType, int ldb, long strideB,
        float* beta, ulong c, int cType, int ldc, long strideC, int batchCount, int computeType, int algorithm);
}
