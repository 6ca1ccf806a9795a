using System.Runtime.InteropServices;
using ReClip.Runtime.Cuda;

namespace ReClip.Runtime.Platform;

/// <summary>One native component: found (with version and path) or not (with the reason).</summary>
public sealed record ComponentStatus(string Name, bool Found, string? Version, string? Path, string? Problem);

/// <summary>Everything `reclip info` shows: the build, the CPU path, and what of CUDA this machine has.</summary>
public sealed record SystemReport(
    string ReclipVersion,
    string Runtime,
    string OperatingSystem,
    string CpuModel,
    int LogicalCores,
    int Threads,
    SimdLevel Simd,
    IReadOnlyList<string> CpuFeatures,
    ComponentStatus Driver,
    ComponentStatus Nvrtc,
    ComponentStatus Cublas,
    ComponentStatus CublasLt,
    IReadOnlyList<CudaDeviceInfo> Devices,
    IReadOnlyList<string?> KernelTargets)
{
    /// <summary>Gathers the report; never throws for a missing or broken CUDA installation, it reports it.</summary>
    public static SystemReport Collect()
    {
        ComponentStatus driver = Probe(NativeLibraries.Driver, () =>
        {
            string version = CudaDriver.DriverVersion();
            return CudaDriver.UnavailableReason is { } reason ? throw new CudaUnavailableException(reason) : version;
        });
        IReadOnlyList<CudaDeviceInfo> devices = driver.Found && driver.Problem is null
            ? Enumerable.Range(0, CudaDriver.DeviceCount()).Select(CudaDriver.Describe).ToArray()
            : [];
        ComponentStatus nvrtc = Probe(NativeLibraries.Nvrtc, () =>
        {
            int[] architectures = Cuda.Nvrtc.SupportedArchitectures();
            return $"{Cuda.Nvrtc.Version()} (compute_{architectures.Min()}..compute_{architectures.Max()})";
        });
        return new SystemReport(
            typeof(SystemReport).Assembly.GetName().Version?.ToString(3) ?? "?",
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.OSDescription,
            CpuInfo.ModelName,
            Environment.ProcessorCount,
            CpuInfo.Threads,
            CpuInfo.Simd,
            CpuInfo.Features(),
            driver,
            nvrtc,
            Probe(NativeLibraries.Cublas, () => Cuda.Cublas.Version().ToString()),
            Probe(NativeLibraries.CublasLt, () => Cuda.CublasLt.Version().ToString()),
            devices,
            [.. devices.Select(device => nvrtc.Found && nvrtc.Problem is null ? KernelTargetOf(device) : null)]);
    }

    /// <summary>What the kernels compile to for <paramref name="device"/>, or why they cannot.</summary>
    private static string KernelTargetOf(CudaDeviceInfo device)
    {
        try
        {
            KernelTarget target = KernelCache.TargetFor(device.ComputeMajor, device.ComputeMinor);
            return $"{target} ({(target.MachineCode ? "machine code" : "PTX the driver compiles")})";
        }
        catch (CudaUnavailableException e)
        {
            return e.Message;
        }
    }

    private static ComponentStatus Probe(NativeLibraryStatus library, Func<string> version)
    {
        if (!library.IsLoaded)
            return new ComponentStatus(library.Name, false, null, null, library.Problem);
        try
        {
            return new ComponentStatus(library.Name, true, version(), library.Path, null);
        }
        catch (Exception e) when (e is CudaException or CudaUnavailableException or EntryPointNotFoundException)
        {
            return new ComponentStatus(library.Name, true, null, library.Path, e.Message);
        }
    }
}
