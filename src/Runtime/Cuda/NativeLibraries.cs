using System.Reflection;
using System.Runtime.InteropServices;

namespace ReClip.Runtime.Cuda;

/// <summary>The outcome of looking for one native library: its handle and path, or why it was not found.</summary>
public sealed record NativeLibraryStatus(string Name, nint Handle, string? Path, string? Problem)
{
    public bool IsLoaded => Handle != 0;
}

/// <summary>
/// Finds the CUDA driver, NVRTC, cuBLAS, cuBLASLt and NCCL. Tried in order: the folders in RECLIP_CUDA_LIBS, the
/// system loader (ld.so cache, LD_LIBRARY_PATH), CUDA's own folders and the pip "nvidia/*/lib" folders.
/// Each library is looked up once; the bindings name it by a logical name this resolver maps.
/// </summary>
public static class NativeLibraries
{
    internal const string DriverName = "reclip-cuda";
    internal const string NvrtcName = "reclip-nvrtc";
    internal const string CublasName = "reclip-cublas";
    internal const string CublasLtName = "reclip-cublaslt";
    internal const string NcclName = "reclip-nccl";

    public const string SearchPathVariable = "RECLIP_CUDA_LIBS";

    private static readonly string[] DriverSonames = ["libcuda.so.1", "libcuda.so"];
    private static readonly string[] NvrtcSonames = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"];
    private static readonly string[] CublasSonames = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"];
    private static readonly string[] CublasLtSonames = ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"];
    private static readonly string[] NcclSonames = ["libnccl.so.2", "libnccl.so"];

    private static readonly Lazy<NativeLibraryStatus> driver = new(() => Find("CUDA driver", DriverSonames));
    private static readonly Lazy<NativeLibraryStatus> nvrtc = new(() => Find("NVRTC", NvrtcSonames));
    private static readonly Lazy<NativeLibraryStatus> cublas = new(() => Find("cuBLAS", CublasSonames));
    private static readonly Lazy<NativeLibraryStatus> cublasLt = new(() => Find("cuBLASLt", CublasLtSonames));
    private static readonly Lazy<NativeLibraryStatus> nccl = new(() => Find("NCCL", NcclSonames));

    static NativeLibraries() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);

    public static NativeLibraryStatus Driver => driver.Value;

    public static NativeLibraryStatus Nvrtc => nvrtc.Value;

    public static NativeLibraryStatus Cublas => cublas.Value;

    public static NativeLibraryStatus CublasLt => cublasLt.Value;

    public static NativeLibraryStatus Nccl => nccl.Value;

    /// <summary>Throws a clear error when <paramref name="status"/> was not found; call before the first P/Invoke.</summary>
    internal static void Require(NativeLibraryStatus status)
    {
        if (!status.IsLoaded)
            throw new CudaUnavailableException($"{status.Name} is not available: {status.Problem}");
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        DriverName => Driver.Handle,
        NvrtcName => Nvrtc.Handle,
        CublasName => Cublas.Handle,
        CublasLtName => CublasLt.Handle,
        NcclName => Nccl.Handle,
        _ => 0,
    };

    private static NativeLibraryStatus Find(string name, string[] sonames)
    {
        foreach (string directory in ConfiguredDirectories())
            if (TryLoadFrom(directory, sonames, out nint handle, out string? path))
                return new NativeLibraryStatus(name, handle, path, null);

        foreach (string soname in sonames)
            if (NativeLibrary.TryLoad(soname, out nint handle))
                return new NativeLibraryStatus(name, handle, soname, null);

        foreach (string directory in WellKnownDirectories())
            if (TryLoadFrom(directory, sonames, out nint handle, out string? path))
                return new NativeLibraryStatus(name, handle, path, null);

        string configured = Environment.GetEnvironmentVariable(SearchPathVariable) is { Length: > 0 } v ? $"{SearchPathVariable}={v}" : $"{SearchPathVariable} unset";
        return new NativeLibraryStatus(name, 0, null,
            $"none of {string.Join(", ", sonames)} found ({configured}; searched the system loader, CUDA's folders and pip's nvidia/*/lib)");
    }

    private static bool TryLoadFrom(string directory, string[] sonames, out nint handle, out string? path)
    {
        // CUDA's "stubs" folders hold link-time stand-ins: a stub libcuda loads but fails every call
        // with CUDA_ERROR_STUB_LIBRARY, hiding the real driver later in the search.
        bool isStubFolder = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(directory)) == "stubs";
        foreach (string soname in isStubFolder ? [] : sonames)
        {
            string candidate = System.IO.Path.Combine(directory, soname);
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out handle))
            {
                path = candidate;
                return true;
            }
        }
        handle = 0;
        path = null;
        return false;
    }

    private static IEnumerable<string> ConfiguredDirectories() =>
        (Environment.GetEnvironmentVariable(SearchPathVariable) ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IEnumerable<string> WellKnownDirectories()
    {
        foreach (string variable in new[] { "CUDA_HOME", "CUDA_PATH" })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } root)
                yield return System.IO.Path.Combine(root, "lib64");
        yield return "/usr/local/cuda/lib64";
        yield return "/usr/local/cuda/targets/x86_64-linux/lib";
        yield return "/usr/lib/x86_64-linux-gnu";
        yield return "/usr/lib/wsl/lib";
        foreach (string directory in PipNvidiaDirectories())
            yield return directory;
    }

    /// <summary>
    /// pip installs CUDA as nvidia/&lt;component&gt;/lib (CUDA 12; NCCL as nvidia/nccl/lib) or nvidia/cu13/lib (CUDA 13)
    /// under site-packages.
    /// </summary>
    private static IEnumerable<string> PipNvidiaDirectories()
    {
        var roots = new List<string> { "/usr/local/lib", "/usr/lib" };
        if (Environment.GetEnvironmentVariable("VIRTUAL_ENV") is { Length: > 0 } venv)
            roots.Insert(0, System.IO.Path.Combine(venv, "lib"));
        if (Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home)
            roots.Add(System.IO.Path.Combine(home, ".local", "lib"));
        foreach (string root in roots.Where(Directory.Exists))
            foreach (string python in SafeDirectories(root, "python3*"))
                foreach (string packages in new[] { "site-packages", "dist-packages" })
                {
                    string nvidia = System.IO.Path.Combine(python, packages, "nvidia");
                    foreach (string component in SafeDirectories(nvidia, "*"))
                        yield return System.IO.Path.Combine(component, "lib");
                }
    }

    private static string[] SafeDirectories(string directory, string pattern)
    {
        try
        {
            return Directory.Exists(directory) ? Directory.GetDirectories(directory, pattern) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
