using System.Collections.Concurrent;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// Allocation of GPU memory, ordered on the stream our work runs on (the legacy default stream, or a capturing one: see
/// <see cref="CaptureStream"/>, which turns them into a graph's allocation and free nodes) and served from the
/// device's default memory pool, which is told to keep what is freed. cuMemFree waits for the whole device and
/// cuMemAlloc asks the driver every time, while a forward pass allocates and frees hundreds of intermediates:
/// with the pool, a free is queued behind the work that still reads the memory, and the next allocation of that
/// size reuses it without a driver round trip. Devices without memory pools fall back to cuMemAlloc/cuMemFree.
/// </summary>
internal static unsafe class DeviceMemory
{
    private static readonly ConcurrentDictionary<int, bool> pooled = new();

    /// <summary>Allocates <paramref name="bytes"/> on the current context's device (<paramref name="ordinal"/>); returns the driver status.</summary>
    public static int Allocate(int ordinal, nuint bytes, out ulong pointer)
    {
        int status = UsesPool(ordinal) ? DriverApi.cuMemAllocAsync(out pointer, bytes, CaptureStream.For(ordinal)) : DriverApi.cuMemAlloc(out pointer, bytes);
        if (status == 0)
            CaptureStream.Allocated(ordinal, pointer);
        return status;
    }

    /// <summary>Frees <paramref name="pointer"/> (during a capture, perhaps once it ends: see <see cref="CaptureStream.FreeNow"/>); returns the driver status.</summary>
    public static int Free(int ordinal, ulong pointer)
    {
        if (!CaptureStream.FreeNow(ordinal, pointer))
            return 0;
        int status = UsesPool(ordinal) ? DriverApi.cuMemFreeAsync(pointer, CaptureStream.For(ordinal)) : DriverApi.cuMemFree(pointer);
        // A capture that an earlier call invalidated refuses the frees of the tensors its work unwinds; their memory was
        // never made (a graph's allocation nodes exist only once it runs), and that earlier error is the one to report.
        return status == CaptureInvalidated && CaptureStream.Capturing(ordinal) ? 0 : status;
    }

    private const int CaptureInvalidated = 901;

    private static bool UsesPool(int ordinal) => pooled.GetOrAdd(ordinal, KeepPoolWarm);

    private static bool KeepPoolWarm(int ordinal)
    {
        CudaDriver.Check(DriverApi.cuDeviceGet(out int device, ordinal), "cuDeviceGet");
        if (CudaDriver.Attribute(device, DriverApi.DeviceAttributeMemoryPoolsSupported) == 0)
            return false;
        CudaDriver.Check(DriverApi.cuDeviceGetDefaultMemPool(out nint pool, device), "cuDeviceGetDefaultMemPool");
        ulong keepEverything = ulong.MaxValue;
        CudaDriver.Check(DriverApi.cuMemPoolSetAttribute(pool, DriverApi.MemoryPoolAttributeReleaseThreshold, &keepEverything), "cuMemPoolSetAttribute");
        return true;
    }
}
