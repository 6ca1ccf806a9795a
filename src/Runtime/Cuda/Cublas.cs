namespace ReClip.Runtime.Cuda;

/// <summary>cuBLAS, checked. Its version can be read without a GPU.</summary>
public static class Cublas
{
    public static bool IsAvailable => NativeLibraries.Cublas.IsLoaded;

    public static Version Version()
    {
        NativeLibraries.Require(NativeLibraries.Cublas);
        return new Version(Property(CublasApi.MajorVersion), Property(CublasApi.MinorVersion), Property(CublasApi.PatchLevel));
    }

    private static int Property(int property)
    {
        int status = CublasApi.cublasGetProperty(property, out int value);
        if (status != 0)
            throw new CudaException("cublasGetProperty", status, $"CUBLAS_STATUS_{status}");
        return value;
    }
}
