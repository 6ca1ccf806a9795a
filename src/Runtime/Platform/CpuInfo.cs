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

    /// <summary>The kernels a level runs, in words: "AVX-512", "AVX2+FMA" or "portable Vector&lt;T&gt;".</summary>
    public static string KernelName(SimdLevel level) => level switch
    {
        SimdLevel.Avx512 => "AVX-512",
        SimdLevel.Avx2Fma => "AVX2+FMA",
        _ => "portable Vector<T>",
    };

    /// <summary>The most compute threads RECLIP_THREADS may ask for: far above any core count we run on, low enough that a typo cannot start a million threads.</summary>
    public const int MaxThreads = 1024;

    /// <summary>Compute threads: RECLIP_THREADS when set, else one per logical core.</summary>
    public static int Threads => RequestedThreads(Environment.GetEnvironmentVariable(ThreadsVariable)) ?? Environment.ProcessorCount;

    /// <summary>
    /// The thread count a RECLIP_THREADS value asks for, null when it is unset or blank. Anything but a whole number
    /// in 1..<see cref="MaxThreads"/> is refused rather than ignored, so a mistyped value does not silently run on
    /// every core.
    /// </summary>
    internal static int? RequestedThreads(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        if (int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int threads)
            && threads is >= 1 and <= MaxThreads)
            return threads;
        throw new ArgumentException($"{ThreadsVariable}: expected a whole number of threads from 1 to {MaxThreads}, got '{value}'");
    }

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
