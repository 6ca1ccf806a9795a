using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ReClip.Runtime.Platform;

/// <summary>The SIMD level the CPU kernels pick at run time, widest first.</summary>
public enum SimdLevel
{
    Avx512,
    Avx2Fma,
    Portable,
}

/// <summary>What the CPU offers the compute kernels: model, features, and the number of compute threads.</summary>
public static class CpuInfo
{
    public const string ThreadsVariable = "RECLIP_THREADS";

    private static readonly Lazy<string> modelName = new(ReadModelName);

    public static string ModelName => modelName.Value;

    /// <summary>AVX-512 needs F for FMA on zmm registers; AVX2 paths also need FMA3 (every AVX2 CPU we target has it).</summary>
    public static SimdLevel Simd =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? SimdLevel.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? SimdLevel.Avx2Fma
        : SimdLevel.Portable;

    /// <summary>Compute threads: RECLIP_THREADS when set to a positive number, else one per logical core.</summary>
    public static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable(ThreadsVariable), out int requested) && requested > 0
            ? requested
            : Environment.ProcessorCount;

    public static IReadOnlyList<string> Features()
    {
        var features = new List<string>();
        if (Avx512F.IsSupported) features.Add("avx512f");
        if (Avx512BW.IsSupported) features.Add("avx512bw");
        if (Avx512Vbmi.IsSupported) features.Add("avx512vbmi");
        if (Avx2.IsSupported) features.Add("avx2");
        if (Fma.IsSupported) features.Add("fma");
        return features;
    }

    private static string ReadModelName()
    {
        const string cpuinfo = "/proc/cpuinfo";
        try
        {
            if (File.Exists(cpuinfo))
                foreach (string line in File.ReadLines(cpuinfo))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is int colon and > 0)
                        return line[(colon + 1)..].Trim();
        }
        catch (IOException)
        {
            // An unreadable /proc only costs the model name.
        }
        return "unknown";
    }
}
