using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>Raw CUDA driver API entry points (cuda.h). Call through <see cref="CudaDriver"/>, which checks every status.</summary>
internal static unsafe partial class DriverApi
{
    public const int DeviceAttributeComputeCapabilityMajor = 75;
    public const int DeviceAttributeComputeCapabilityMinor = 76;
    public const int DeviceAttributeMultiprocessorCount = 16;

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuInit(uint flags);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuDriverGetVersion(out int version);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuGetErrorName(int status, out nint name);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuDeviceGetCount(out int count);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuDeviceGet(out int device, int ordinal);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuDeviceTotalMem_v2")]
    public static partial int cuDeviceTotalMem(out nuint bytes, int device);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuDeviceGetAttribute(out int value, int attribute, int device);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuDevicePrimaryCtxRetain(out nint context, int device);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuCtxSetCurrent(nint context);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemAlloc_v2")]
    public static partial int cuMemAlloc(out ulong pointer, nuint bytes);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemFree_v2")]
    public static partial int cuMemFree(ulong pointer);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemcpyHtoD_v2")]
    public static partial int cuMemcpyHtoD(ulong destination, void* source, nuint bytes);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemcpyDtoH_v2")]
    public static partial int cuMemcpyDtoH(void* destination, ulong source, nuint bytes);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemcpyDtoD_v2")]
    public static partial int cuMemcpyDtoD(ulong destination, ulong source, nuint bytes);
}
