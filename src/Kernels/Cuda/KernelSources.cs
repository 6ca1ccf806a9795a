using ReClip.Runtime.Cuda;

namespace ReClip.Kernels.Cuda;

/// <summary>
/// The CUDA sources of kernels/*.cu, embedded in this assembly, each given every kernels/*.cuh header to
/// #include; the CI compile test iterates <see cref="All"/>.
/// </summary>
public static class KernelSources
{
    private const string Prefix = "kernels/";

    /// <summary>Template instantiations each source must export, by source name (sources of plain extern "C" kernels need none).</summary>
    private static readonly Dictionary<string, string[]> NameExpressions = [];

    private static readonly Lazy<IReadOnlyDictionary<string, KernelSource>> sources = new(ReadAll);

    public static IReadOnlyCollection<KernelSource> All => [.. sources.Value.Values];

    public static KernelSource Get(string name) =>
        sources.Value.TryGetValue(name, out KernelSource? source) ? source
            : throw new ArgumentException($"no kernel source '{name}.cu' is embedded; known: {string.Join(", ", sources.Value.Keys)}");

    private static IReadOnlyDictionary<string, KernelSource> ReadAll()
    {
        var assembly = typeof(KernelSources).Assembly;
        string[] resources = [.. assembly.GetManifestResourceNames().Where(r => r.StartsWith(Prefix, StringComparison.Ordinal))];
        var headers = resources.Where(r => r.EndsWith(".cuh", StringComparison.Ordinal))
            .ToDictionary(r => r[Prefix.Length..], Read, StringComparer.Ordinal);
        var result = new SortedDictionary<string, KernelSource>(StringComparer.Ordinal);
        foreach (string resource in resources.Where(r => r.EndsWith(".cu", StringComparison.Ordinal)))
        {
            string name = Path.GetFileNameWithoutExtension(resource[Prefix.Length..]);
            result[name] = new KernelSource(name, Read(resource), NameExpressions.GetValueOrDefault(name, []), headers);
        }
        return result;

        string Read(string resource)
        {
            using Stream stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }
}
