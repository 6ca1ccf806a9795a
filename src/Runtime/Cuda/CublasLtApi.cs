using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>Raw cuBLASLt entry points and the enum values used (cublasLt.h). Call through <see cref="CublasLt"/>.</summary>
internal static unsafe partial class CublasLtApi
{
    public const int DescTransposeA = 3;     // CUBLASLT_MATMUL_DESC_TRANSA
    public const int DescTransposeB = 4;     // CUBLASLT_MATMUL_DESC_TRANSB
    public const int DescEpilogue = 7;       // CUBLASLT_MATMUL_DESC_EPILOGUE
    public const int DescBiasPointer = 8;    // CUBLASLT_MATMUL_DESC_BIAS_POINTER
    public const int EpilogueBias = 4;       // CUBLASLT_EPILOGUE_BIAS
    public const int PreferenceMaxWorkspaceBytes = 1;  // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES

    /// <summary>cublasLtMatmulHeuristicResult_t: the algorithm (8 × uint64), its workspace size, a status, a wave count, 4 reserved ints.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct HeuristicResult
    {
        public fixed ulong Algorithm[8];
        public nuint WorkspaceSize;
        public int State;
        public float Waves;
        public fixed int Reserved[4];
    }

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial nuint cublasLtGetVersion();

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtCreate(out nint handle);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatmulDescCreate(out nint description, int computeType, int scaleType);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatmulDescSetAttribute(nint description, int attribute, void* value, nuint bytes);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatmulDescDestroy(nint description);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatrixLayoutDestroy(nint layout);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatrixLayoutCreate(out nint layout, int type, ulong rows, ulong columns, long leadingDimension);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatmulPreferenceCreate(out nint preference);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatmulPreferenceSetAttribute(nint preference, int attribute, void* value, nuint bytes);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatmulPreferenceDestroy(nint preference);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatmulAlgoGetHeuristic(nint handle, nint description, nint a, nint b, nint c, nint d, nint preference,
        int requested, HeuristicResult* results, out int returned);

    [LibraryImport(NativeLibraries.CublasLtName)]
    public static partial int cublasLtMatmul(nint handle, nint description, float* alpha, ulong a, nint aLayout, ulong b, nint bLayout,
        float* beta, ulong c, nint cLayout, ulong d, nint dLayout, ulong* algorithm, ulong workspace, nuint workspaceBytes, nint stream);
}
