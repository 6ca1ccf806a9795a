using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>What the driver reports about one GPU.</summary>
public sealed record CudaDeviceInfo(int Ordinal, string Name, int ComputeMajor, int ComputeMinor, long TotalMemoryBytes, int Multiprocessors)
{
    public string ComputeCapability => $"{ComputeMajor}.{ComputeMinor}";
}

/// <summary>
/// The CUDA driver API, checked: every non-success status becomes a <see cref="CudaException"/> naming the call.
/// Initialised once per process; each device's primary context is retained on first use.
/// </summary>
public static unsafe class CudaDriver
{
    private static readonly Lazy<int> initStatus = new(() =>
    {
        NativeLibraries.Require(NativeLibraries.Driver);
        return DriverApi.cuInit(0);
    });

    private static readonly Dictionary<int, nint> contexts = [];
    private static readonly Lock contextGate = new();

    /// <summary>True when the driver library loads and cuInit succeeds (at least one usable GPU).</summary>
    public static bool IsAvailable => NativeLibraries.Driver.IsLoaded && initStatus.Value == 0;

    /// <summary>Why the driver cannot be used, or null when it can.</summary>
    public static string? UnavailableReason
    {
        get
        {
            if (!NativeLibraries.Driver.IsLoaded)
                return NativeLibraries.Driver.Problem;
            int status = initStatus.Value;
            return status == 0 ? null : $"cuInit failed: {StatusName(status)} ({status})";
        }
    }

    public static void EnsureInitialized()
    {
        NativeLibraries.Require(NativeLibraries.Driver);
        Check(initStatus.Value, "cuInit");
    }

    /// <summary>The driver's CUDA version as "major.minor" (e.g. 13.0).</summary>
    public static string DriverVersion()
    {
        NativeLibraries.Require(NativeLibraries.Driver);
        Check(DriverApi.cuDriverGetVersion(out int version), "cuDriverGetVersion");
        return $"{version / 1000}.{version % 1000 / 10}";
    }

    public static int DeviceCount()
    {
        EnsureInitialized();
        Check(DriverApi.cuDeviceGetCount(out int count), "cuDeviceGetCount");
        return count;
    }

    public static CudaDeviceInfo Describe(int ordinal)
    {
        EnsureInitialized();
        Check(DriverApi.cuDeviceGet(out int device, ordinal), "cuDeviceGet");
        byte* name = stackalloc byte[256];
        Check(DriverApi.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        Check(DriverApi.cuDeviceTotalMem(out nuint memory, device), "cuDeviceTotalMem");
        return new CudaDeviceInfo(ordinal, Marshal.PtrToStringUTF8((nint)name) ?? "?",
            Attribute(device, DriverApi.DeviceAttributeComputeCapabilityMajor),
            Attribute(device, DriverApi.DeviceAttributeComputeCapabilityMinor),
            (long)memory, Attribute(device, DriverApi.DeviceAttributeMultiprocessorCount));
    }

    /// <summary>Makes the primary context of <paramref name="ordinal"/> current on the calling thread.</summary>
    public static void MakeCurrent(int ordinal)
    {
        EnsureInitialized();
        nint context;
        lock (contextGate)
        {
            if (!contexts.TryGetValue(ordinal, out context))
            {
                Check(DriverApi.cuDeviceGet(out int device, ordinal), "cuDeviceGet");
                Check(DriverApi.cuDevicePrimaryCtxRetain(out context, device), "cuDevicePrimaryCtxRetain");
                contexts[ordinal] = context;
            }
        }
        Check(DriverApi.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /// <summary>
    /// Waits until everything queued for <paramref name="ordinal"/> has run: on the legacy default stream, where most of our
    /// work goes, and on every other stream (work beside it, graphs replayed elsewhere).
    /// </summary>
    public static void Synchronize(int ordinal)
    {
        MakeCurrent(ordinal);
        Check(DriverApi.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    internal static void Check(int status, string call)
    {
        if (status != 0)
            throw new CudaException(call, status, StatusName(status));
    }

    internal static string StatusName(int status)
    {
        if (NativeLibraries.Driver.IsLoaded && DriverApi.cuGetErrorName(status, out nint text) == 0 && text != 0)
            return Marshal.PtrToStringUTF8(text) ?? $"CUDA_ERROR_{status}";
        return $"CUDA_ERROR_{status}";
    }

    internal static int Attribute(int device, int attribute)
    {
        Check(DriverApi.cuDeviceGetAttribute(out int value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }
}
