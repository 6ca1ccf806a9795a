using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>Raw CUDA driver API entry points (cuda.h). Call through <see cref="CudaDriver"/>, which checks every status.</summary>
internal static unsafe partial class DriverApi
{
    public const int DeviceAttributeComputeCapabilityMajor = 75;
    public const int DeviceAttributeComputeCapabilityMinor = 76;
    public const int DeviceAttributeMultiprocessorCount = 16;
    public const int DeviceAttributeMemoryPoolsSupported = 115;
    public const int MemoryPoolAttributeReleaseThreshold = 4;

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

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuMemAllocAsync(out ulong pointer, nuint bytes, nint stream);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuMemFreeAsync(ulong pointer, nint stream);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuDeviceGetDefaultMemPool(out nint pool, int device);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuMemPoolSetAttribute(nint pool, int attribute, void* value);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemcpyHtoD_v2")]
    public static partial int cuMemcpyHtoD(ulong destination, void* source, nuint bytes);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemcpyDtoH_v2")]
    public static partial int cuMemcpyDtoH(void* destination, ulong source, nuint bytes);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemcpyHtoDAsync_v2")]
    public static partial int cuMemcpyHtoDAsync(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemHostAlloc")]
    public static partial int cuMemHostAlloc(out nint pointer, nuint bytes, uint flags);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuMemFreeHost(nint pointer);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuMemcpyDtoDAsync_v2")]
    public static partial int cuMemcpyDtoDAsync(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuModuleLoadData(out nint module, byte* image);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuModuleUnload(nint module);

    [LibraryImport(NativeLibraries.DriverName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int cuModuleGetFunction(out nint function, nint module, string name);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, nint stream, void** parameters, void** extra);

    /// <summary>CUDA 12.4 and later: the offset and size of a kernel's parameter; CUDA_ERROR_INVALID_VALUE past the last.</summary>
    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuFuncGetParamInfo(nint function, nuint index, out nuint offset, out nuint size);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuOccupancyMaxActiveBlocksPerMultiprocessor(out int blocks, nint function, int blockSize, nuint dynamicSharedBytes);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuStreamCreate(out nint stream, uint flags);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuStreamDestroy_v2")]
    public static partial int cuStreamDestroy(nint stream);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuEventCreate(out nint @event, uint flags);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuEventDestroy_v2")]
    public static partial int cuEventDestroy(nint @event);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuEventRecord(nint @event, nint stream);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuEventSynchronize(nint @event);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuStreamWaitEvent(nint stream, nint @event, uint flags);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuCtxSynchronize();

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuEventElapsedTime(out float milliseconds, nint start, nint end);

    [LibraryImport(NativeLibraries.DriverName, EntryPoint = "cuStreamBeginCapture_v2")]
    public static partial int cuStreamBeginCapture(nint stream, int mode);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuStreamEndCapture(nint stream, out nint graph);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuGraphInstantiateWithFlags(out nint graphExec, nint graph, ulong flags);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuGraphLaunch(nint graphExec, nint stream);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuDeviceGraphMemTrim(int device);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuGraphExecDestroy(nint graphExec);

    [LibraryImport(NativeLibraries.DriverName)]
    public static partial int cuGraphDestroy(nint graph);
}
