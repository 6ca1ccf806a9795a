using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// Compiles kernel sources with NVRTC for a device and loads them. A device whose compute capability the loaded NVRTC
/// knows gets machine code (CUBIN) for exactly that architecture: the driver loads it without compiling anything, and it
/// loads even when NVRTC is a newer minor version of the driver's CUDA (a driver cannot compile PTX from a newer CUDA;
/// across major versions neither form is promised to load). A device newer than
/// NVRTC gets PTX for the newest architecture NVRTC knows, which the driver compiles forward. What NVRTC produced is
/// kept on disk, keyed by a hash of the source, the options, the name expressions and the NVRTC version, so a kernel
/// compiles once per machine; loaded modules are kept per device for the life of the process. RECLIP_DEBUG_KERNELS=1
/// (or <see cref="Debug"/>) prints each source and its compile log to stderr.
/// </summary>
public static class KernelCache
{
    public const string CacheVariable = "RECLIP_KERNEL_CACHE";
    public const string DebugVariable = "RECLIP_DEBUG_KERNELS";

    private static readonly Dictionary<(string Source, int Device), LoadedModule> modules = [];
    private static readonly Lock gate = new();

    public static bool Debug { get; set; } = Environment.GetEnvironmentVariable(DebugVariable) == "1";

    /// <summary>Where compiled kernels are kept: RECLIP_KERNEL_CACHE, else $XDG_CACHE_HOME/reclip/kernels, else ~/.cache/reclip/kernels.</summary>
    public static string Directory =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } configured ? configured
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "reclip", "kernels");

    /// <summary>The NVRTC options for a target.</summary>
    public static IReadOnlyList<string> Options(KernelTarget target) => [target.Option, "-std=c++17"];

    /// <summary>
    /// Machine code for the device's compute capability when the loaded NVRTC supports it, else PTX for the newest
    /// architecture it supports that does not exceed the device's.
    /// </summary>
    public static KernelTarget TargetFor(int computeMajor, int computeMinor)
    {
        int device = computeMajor * 10 + computeMinor;
        int[] supported = Nvrtc.SupportedArchitectures();
        if (supported.Contains(device))
            return new KernelTarget(device, MachineCode: true);
        int best = supported.Where(a => a <= device).DefaultIfEmpty(0).Max();
        return best > 0 ? new KernelTarget(best, MachineCode: false)
            : throw new CudaUnavailableException($"NVRTC {Nvrtc.Version()} cannot target compute capability {computeMajor}.{computeMinor} (it supports compute_{supported.Min()}..compute_{supported.Max()})");
    }

    /// <summary>
    /// Compiles (or reads from the disk cache) <paramref name="source"/> for <paramref name="target"/>; the cache lives
    /// in <paramref name="cacheDirectory"/>, by default <see cref="Directory"/>. A cache entry whose image does not match
    /// the hash recorded beside it is compiled again.
    /// </summary>
    public static KernelImage Compile(KernelSource source, KernelTarget target, string? cacheDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        IReadOnlyList<string> options = Options(target);
        string key = CacheKey(source, options);
        string imagePath = Path.Combine(cacheDirectory ?? Directory, $"{source.Name}-{key}.{(target.MachineCode ? "cubin" : "ptx")}");
        string entryPath = Path.ChangeExtension(imagePath, ".json");
        if (TryRead(imagePath, entryPath, source, target) is KernelImage cached)
            return cached;
        if (Debug)
            Console.Error.WriteLine($"--- kernel {source.Name} ({string.Join(' ', options)})\n{source.Code}");
        CompiledProgram program = Nvrtc.Compile(source.Code, source.Name + ".cu", options, source.NameExpressions, source.Headers);
        if (Debug)
            Console.Error.WriteLine($"--- compile log of {source.Name}: {(program.Log.Length == 0 ? "(empty)" : program.Log)}");
        // PTX goes to the driver as text ending in a NUL.
        byte[] image = target.MachineCode
            ? program.Cubin ?? throw new InvalidOperationException($"NVRTC {Nvrtc.Version()} produced no machine code of {source.Name} for {target}")
            : Encoding.UTF8.GetBytes(program.Ptx + "\0");
        var compiled = new KernelImage(target, image, program.LoweredNames);
        TryStore(imagePath, entryPath, compiled);
        return compiled;
    }

    /// <summary>The module of <paramref name="source"/> loaded on <paramref name="device"/>, compiled on first use.</summary>
    public static LoadedModule Load(KernelSource source, int device)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (gate)
        {
            if (modules.TryGetValue((source.Name, device), out LoadedModule? loaded))
                return loaded;
            CudaDeviceInfo info = CudaDriver.Describe(device);
            KernelImage compiled = Compile(source, TargetFor(info.ComputeMajor, info.ComputeMinor));
            CudaModule module;
            try
            {
                module = CudaModule.Load(device, compiled.Image, source.Name);
            }
            catch (CudaException e) when (NewerThanDriverHint(compiled.Target, Nvrtc.Version(), Version.Parse(CudaDriver.DriverVersion())) is string hint)
            {
                throw new CudaException(e.Call, e.Status, e.StatusName, $"{source.Name} ({compiled.Target}); {hint}");
            }
            loaded = new LoadedModule(module, compiled.LoweredNames);
            modules[(source.Name, device)] = loaded;
            return loaded;
        }
    }

    /// <summary>
    /// Why a driver of CUDA <paramref name="driver"/> may refuse what NVRTC <paramref name="nvrtc"/> made for
    /// <paramref name="target"/>, as advice for the error, or null when the versions are not the cause: a driver cannot
    /// compile PTX of a newer CUDA, nor load machine code of a newer major version.
    /// </summary>
    public static string? NewerThanDriverHint(KernelTarget target, Version nvrtc, Version driver)
    {
        ArgumentNullException.ThrowIfNull(nvrtc);
        ArgumentNullException.ThrowIfNull(driver);
        bool tooNew = target.MachineCode ? nvrtc.Major > driver.Major : new Version(nvrtc.Major, nvrtc.Minor) > new Version(driver.Major, driver.Minor);
        return tooNew
            ? $"NVRTC {nvrtc.Major}.{nvrtc.Minor} is newer than the driver's CUDA {driver.Major}.{driver.Minor}; update the driver, or point " +
              $"{NativeLibraries.SearchPathVariable} at the folder of an NVRTC no newer than CUDA {driver.Major}.{driver.Minor}"
            : null;
    }

    private static string CacheKey(KernelSource source, IReadOnlyList<string> options)
    {
        string material = string.Join('\0', [source.Code, .. options, .. source.NameExpressions,
            .. source.Headers.OrderBy(h => h.Key, StringComparer.Ordinal).SelectMany(h => new[] { h.Key, h.Value }), Nvrtc.Version().ToString()]);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material)))[..16];
    }

    private static KernelImage? TryRead(string imagePath, string entryPath, KernelSource source, KernelTarget target)
    {
        if (!File.Exists(imagePath) || !File.Exists(entryPath))
            return null;
        try
        {
            CacheEntry? entry = JsonSerializer.Deserialize(File.ReadAllText(entryPath), KernelCacheJson.Default.CacheEntry);
            byte[] image = File.ReadAllBytes(imagePath);
            bool whole = entry?.LoweredNames is not null && source.NameExpressions.All(entry.LoweredNames.ContainsKey)
                && entry.Sha256 == Convert.ToHexStringLower(SHA256.HashData(image));
            return whole ? new KernelImage(target, image, entry!.LoweredNames) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // A damaged or unreadable cache entry is compiled again (and rewritten where it can be).
            return null;
        }
    }

    /// <summary>The cache is an optimisation: a read-only or full disk only costs a recompile next time.</summary>
    private static void TryStore(string imagePath, string entryPath, KernelImage compiled)
    {
        try
        {
            var entry = new CacheEntry(new Dictionary<string, string>(compiled.LoweredNames), Convert.ToHexStringLower(SHA256.HashData(compiled.Image)));
            IO.AtomicFile.Write(imagePath, stream => stream.Write(compiled.Image));
            IO.AtomicFile.WriteAllText(entryPath, JsonSerializer.Serialize(entry, KernelCacheJson.Default.CacheEntry));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Debug) Console.Error.WriteLine($"--- kernel cache not written: {e.Message}");
        }
    }

    /// <summary>What is kept beside a cached image: its mangled names and the hash of the image as written.</summary>
    internal sealed record CacheEntry(Dictionary<string, string> LoweredNames, string Sha256);
}

/// <summary>
/// A kernel source compiled for a target: what the driver loads (machine code, or PTX text ending in a NUL) and the
/// mangled names of its template instantiations.
/// </summary>
public sealed record KernelImage(KernelTarget Target, byte[] Image, IReadOnlyDictionary<string, string> LoweredNames);

/// <summary>A module loaded on a device with the mangled names of its template instantiations.</summary>
public sealed class LoadedModule(CudaModule module, IReadOnlyDictionary<string, string> loweredNames)
{
    public CudaModule Module { get; } = module;

    /// <summary>The kernel for a plain extern "C" name or for one of the source's name expressions.</summary>
    public CudaKernel Kernel(string name) => Module.Kernel(loweredNames.TryGetValue(name, out string? lowered) ? lowered : name);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(KernelCache.CacheEntry))]
internal sealed partial class KernelCacheJson : System.Text.Json.Serialization.JsonSerializerContext;
