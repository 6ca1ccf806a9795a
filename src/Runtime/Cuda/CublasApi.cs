using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>Raw cuBLAS entry points (cublas_api.h). Call through <see cref="Cublas"/>.</summary>
internal static partial class CublasApi
{
    public const int MajorVersion = 0;
    public const int MinorVersion = 1;
    public const int PatchLevel = 2;

    [LibraryImport(NativeLibraries.CublasName)]
    public static partial int cublasGetProperty(int property, out int value);
}
