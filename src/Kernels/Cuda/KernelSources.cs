using ReClip.Runtime.Cuda;

namespace ReClip.Kernels.Cuda;

/// <summary>The CUDA sources of kernels/*.cu, embedded in this assembly; the CI compile test iterates <see cref="All"/>.</summary>
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
        var result = new SortedDictionary<string, KernelSource>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using Stream stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            string name = Path.GetFileNameWithoutExtension(resource[Prefix.Length..]);
            result[name] = new KernelSource(name, reader.ReadToEnd(), NameExpressions.GetValueOrDefault(name, []));
        }
        return result;
    }
}
