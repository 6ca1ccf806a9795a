using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace ReClip.Runtime.Cuda;

/// <summary>The outcome of looking for one native library: its handle and path, or why none found can be used.</summary>
public sealed record NativeLibraryStatus(string Name, nint Handle, string? Path, string? Problem)
{
    public bool IsLoaded => Handle != 0;
}

/// <summary>
/// Finds the CUDA driver, NVRTC, cuBLAS, cuBLASLt and NCCL. Tried in order: the folders in RECLIP_CUDA_LIBS, the
/// system loader (ld.so cache, LD_LIBRARY_PATH), CUDA's own folders and the pip "nvidia/*/lib" folders.
/// Each library is looked up once; the bindings name it by a logical name this resolver maps. A file that does not load,
/// or loads without the library's own entry point (another library under a CUDA name), is passed over, so a broken
/// installation reads as a missing one whose reason names the file.
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

    // Each library is known by one entry point every version of it exports: a file that loads without it is some other
    // library under the same name.
    private static readonly Lazy<NativeLibraryStatus> driver = new(() => Find("CUDA driver", DriverSonames, "cuInit"));
    private static readonly Lazy<NativeLibraryStatus> nvrtc = new(() => Find("NVRTC", NvrtcSonames, "nvrtcVersion"));
    private static readonly Lazy<NativeLibraryStatus> cublas = new(() => Find("cuBLAS", CublasSonames, "cublasCreate_v2"));
    private static readonly Lazy<NativeLibraryStatus> cublasLt = new(() => Find("cuBLASLt", CublasLtSonames, "cublasLtCreate"));
    private static readonly Lazy<NativeLibraryStatus> nccl = new(() => Find("NCCL", NcclSonames, "ncclGetUniqueId"));

    static NativeLibraries() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);

    public static NativeLibraryStatus Driver => driver.Value;

    public static NativeLibraryStatus Nvrtc => nvrtc.Value;

    public static NativeLibraryStatus Cublas => cublas.Value;

    public static NativeLibraryStatus CublasLt => cublasLt.Value;

    public static NativeLibraryStatus Nccl => nccl.Value;

    /// <summary>
    /// A function missing from a library that did load, in the user's terms: .NET names the bindings' logical library
    /// (reclip-cuda), which no one can look up; this names the file and says what the gap likely is. Null for an entry point
    /// of another library.
    /// </summary>
    public static string? Explain(EntryPointNotFoundException missing)
    {
        ArgumentNullException.ThrowIfNull(missing);
        Match named = Regex.Match(missing.Message, "entry point named '(?<function>[^']+)' in shared library '(?<library>[^']+)'");
        NativeLibraryStatus? status = named.Groups["library"].Value switch
        {
            DriverName => Driver,
            NvrtcName => Nvrtc,
            CublasName => Cublas,
            CublasLtName => CublasLt,
            NcclName => Nccl,
            _ => null,
        };
        return status is null ? null
            : $"{status.Path ?? status.Name} has no {named.Groups["function"].Value}: this {status.Name} is older than the calls of this build (update it)";
    }

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

    /// <summary>
    /// The first candidate that loads and exports <paramref name="entryPoint"/>. One that does not load, or lacks the
    /// entry point, is passed over for the next; when none is left, the problem names each one passed over and why.
    /// </summary>
    private static NativeLibraryStatus Find(string name, string[] sonames, string entryPoint)
    {
        var rejected = new List<string>();
        foreach (string candidate in Candidates(sonames))
        {
            nint handle = Load(candidate, name, entryPoint, rejected);
            if (handle != 0)
                return new NativeLibraryStatus(name, handle, candidate, null);
        }

        if (rejected.Count > 0)
            return new NativeLibraryStatus(name, 0, null, string.Join("; ", rejected.Distinct()));
        string configured = Environment.GetEnvironmentVariable(SearchPathVariable) is { Length: > 0 } v ? $"{SearchPathVariable}={v}" : $"{SearchPathVariable} unset";
        return new NativeLibraryStatus(name, 0, null,
            $"none of {string.Join(", ", sonames)} found ({configured}; searched the system loader, CUDA's folders and pip's nvidia/*/lib)");
    }

    /// <summary>The files to try in search order; a bare soname is left to the system loader.</summary>
    private static IEnumerable<string> Candidates(string[] sonames)
    {
        foreach (string directory in ConfiguredDirectories())
            foreach (string file in InFolder(directory, sonames))
                yield return file;
        foreach (string soname in sonames)
            yield return soname;
        foreach (string directory in WellKnownDirectories())
            foreach (string file in InFolder(directory, sonames))
                yield return file;
    }

    private static IEnumerable<string> InFolder(string directory, string[] sonames)
    {
        // CUDA's "stubs" folders hold link-time stand-ins: a stub libcuda loads but fails every call
        // with CUDA_ERROR_STUB_LIBRARY, hiding the real driver later in the search.
        bool isStubFolder = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(directory)) == "stubs";
        return isStubFolder ? [] : sonames.Select(soname => System.IO.Path.Combine(directory, soname)).Where(File.Exists);
    }

    /// <summary>
    /// The handle of <paramref name="candidate"/> when it loads and exports <paramref name="entryPoint"/>, else 0 with
    /// the reason added to <paramref name="rejected"/>. A soname the system loader does not know is no reason: it is
    /// simply not installed.
    /// </summary>
    private static nint Load(string candidate, string name, string entryPoint, List<string> rejected)
    {
        nint handle;
        if (!candidate.Contains('/'))
        {
            if (!NativeLibrary.TryLoad(candidate, out handle))
                return 0;
        }
        else
        {
            try
            {
                handle = NativeLibrary.Load(candidate);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                rejected.Add($"{candidate} does not load: {LoaderReason(e, candidate)}");
                return 0;
            }
        }
        if (NativeLibrary.TryGetExport(handle, entryPoint, out _))
            return handle;
        NativeLibrary.Free(handle);
        rejected.Add($"{candidate} has no {entryPoint}: not the {name} library");
        return 0;
    }

    /// <summary>
    /// The loader's own words (dlerror's "FILE: invalid ELF header", or a dependency it cannot open), which .NET puts on
    /// the last line of its message.
    /// </summary>
    private static string LoaderReason(Exception e, string candidate)
    {
        string said = e.Message.Trim().Split('\n')[^1].Trim();
        return said.StartsWith(candidate + ": ", StringComparison.Ordinal) ? said[(candidate.Length + 2)..] : said;
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
