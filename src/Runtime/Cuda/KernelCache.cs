using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// Compiles kernel sources with NVRTC for a device and loads them. The target is the device's compute
/// capability capped at the newest virtual architecture the loaded NVRTC knows (PTX runs forward on newer
/// GPUs through the driver's JIT). Compiled PTX is kept on disk, keyed by a hash of the source, the options,
/// the name expressions and the NVRTC version, so a kernel compiles once per machine; loaded modules are
/// kept per device for the life of the process. RECLIP_DEBUG_KERNELS=1 (or <see cref="Debug"/>) prints each
/// source and its compile log to stderr.
/// </summary>
public static class KernelCache
{
    public const string CacheVariable = "RECLIP_KERNEL_CACHE";
    public const string DebugVariable = "RECLIP_DEBUG_KERNELS";

    private static readonly Dictionary<(string Source, int Device), LoadedModule> modules = [];
    private static readonly Lock gate = new();

    public static bool Debug { get; set; } = Environment.GetEnvironmentVariable(DebugVariable) == "1";

    /// <summary>Where compiled PTX is kept: RECLIP_KERNEL_CACHE, else $XDG_CACHE_HOME/reclip/kernels, else ~/.cache/reclip/kernels.</summary>
    public static string Directory =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } configured ? configured
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "reclip", "kernels");

    /// <summary>The NVRTC options for a virtual architecture such as 80 (compute_80).</summary>
    public static IReadOnlyList<string> Options(int architecture) =>
        [$"--gpu-architecture=compute_{architecture}", "-std=c++17"];

    /// <summary>The newest architecture the loaded NVRTC supports that does not exceed the device's compute capability.</summary>
    public static int ArchitectureFor(int computeMajor, int computeMinor)
    {
        int device = computeMajor * 10 + computeMinor;
        int[] supported = Nvrtc.SupportedArchitectures();
        int best = supported.Where(a => a <= device).DefaultIfEmpty(0).Max();
        return best > 0 ? best
            : throw new CudaUnavailableException($"NVRTC {Nvrtc.Version()} cannot target compute capability {computeMajor}.{computeMinor} (it supports compute_{supported.Min()}..compute_{supported.Max()})");
    }

    /// <summary>
    /// Compiles (or reads from the disk cache) the PTX of <paramref name="source"/> for <paramref name="architecture"/>;
    /// the cache lives in <paramref name="cacheDirectory"/>, by default <see cref="Directory"/>.
    /// </summary>
    public static CompiledProgram Compile(KernelSource source, int architecture, string? cacheDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        IReadOnlyList<string> options = Options(architecture);
        string key = CacheKey(source, options);
        string ptxPath = Path.Combine(cacheDirectory ?? Directory, $"{source.Name}-{key}.ptx");
        string namesPath = Path.ChangeExtension(ptxPath, ".names.json");
        if (File.Exists(ptxPath) && File.Exists(namesPath))
        {
            try
            {
                var names = JsonSerializer.Deserialize(File.ReadAllText(namesPath), KernelCacheJson.Default.DictionaryStringString);
                if (names is not null && source.NameExpressions.All(names.ContainsKey))
                    return new CompiledProgram(File.ReadAllText(ptxPath), names, "");
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // A damaged cache entry is recompiled below and rewritten.
            }
        }
        if (Debug)
            Console.Error.WriteLine($"--- kernel {source.Name} ({string.Join(' ', options)})\n{source.Code}");
        CompiledProgram program = Nvrtc.Compile(source.Code, source.Name + ".cu", options, source.NameExpressions, source.Headers);
        if (Debug)
            Console.Error.WriteLine($"--- compile log of {source.Name}: {(program.Log.Length == 0 ? "(empty)" : program.Log)}");
        TryStore(ptxPath, program.Ptx, namesPath, JsonSerializer.Serialize(new Dictionary<string, string>(program.LoweredNames), KernelCacheJson.Default.DictionaryStringString));
        return program;
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
            CompiledProgram program = Compile(source, ArchitectureFor(info.ComputeMajor, info.ComputeMinor));
            loaded = new LoadedModule(CudaModule.LoadPtx(device, program.Ptx, source.Name), program.LoweredNames);
            modules[(source.Name, device)] = loaded;
            return loaded;
        }
    }

    private static string CacheKey(KernelSource source, IReadOnlyList<string> options)
    {
        string material = string.Join('\0', [source.Code, .. options, .. source.NameExpressions,
            .. source.Headers.OrderBy(h => h.Key, StringComparer.Ordinal).SelectMany(h => new[] { h.Key, h.Value }), Nvrtc.Version().ToString()]);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material)))[..16];
    }

    /// <summary>The cache is an optimisation: a read-only or full disk only costs a recompile next time.</summary>
    private static void TryStore(string ptxPath, string ptx, string namesPath, string names)
    {
        try
        {
            IO.AtomicFile.WriteAllText(namesPath, names);
            IO.AtomicFile.WriteAllText(ptxPath, ptx);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Debug) Console.Error.WriteLine($"--- kernel cache not written: {e.Message}");
        }
    }
}

/// <summary>A module loaded on a device with the mangled names of its template instantiations.</summary>
public sealed class LoadedModule(CudaModule module, IReadOnlyDictionary<string, string> loweredNames)
{
    public CudaModule Module { get; } = module;

    /// <summary>The kernel for a plain extern "C" name or for one of the source's name expressions.</summary>
    public CudaKernel Kernel(string name) => Module.Kernel(loweredNames.TryGetValue(name, out string? lowered) ? lowered : name);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class KernelCacheJson : System.Text.Json.Serialization.JsonSerializerContext;
