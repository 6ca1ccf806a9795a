using System.Globalization;
using ReClip.Runtime.Platform;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// The theoretical single-precision peak of the compute threads: threads × SIMD lanes × FMA pipes × 2 flops × clock.
/// Two FMA pipes per core at the vector width used is an assumption (Intel since Haswell, AMD since Zen 2 have them
/// for 256-bit vectors), with one known exception: Zen 4 runs a 512-bit operation as two halves on its two 256-bit
/// pipes, so it completes one 512-bit multiply-add per cycle (<see cref="PipesFor"/>). The
/// clock is the highest cpufreq maximum, else the highest "cpu MHz" of /proc/cpuinfo (virtual machines often show
/// only the nominal clock there, and turbo clocks are not reached on all cores at once). Without FMA or a readable
/// clock the peak is unknown.
/// </summary>
public sealed record PeakFlops(int Threads, int SimdLanes, int FmaPipes, double? ClockMegahertz, string ClockSource)
{
    public const int AssumedFmaPipes = 2;

    public double? GigaFlops => ClockMegahertz is double mhz && FmaPipes > 0 ? Threads * SimdLanes * FmaPipes * 2.0 * mhz / 1000 : null;

    public static PeakFlops OfThisMachine()
    {
        string[] cpuinfo = [.. ReadLines("/proc/cpuinfo")];
        string? vendor = CpuinfoField(cpuinfo, "vendor_id");
        int? family = int.TryParse(CpuinfoField(cpuinfo, "cpu family"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int f) ? f : null;
        int lanes = CpuInfo.Simd switch
        {
            SimdLevel.Avx512 => 16,
            SimdLevel.Avx2Fma => 8,
            _ => System.Numerics.Vector<float>.Count,
        };
        int pipes = PipesFor(CpuInfo.Simd, vendor, family);
        (double? clock, string source) = MaximumFrequency() is double max ? (max, "cpufreq cpuinfo_max_freq")
            : CpuinfoMegahertz(cpuinfo) is double current ? (current, "/proc/cpuinfo cpu MHz")
            : ((double?)null, "unknown");
        return new PeakFlops(CpuInfo.Threads, lanes, pipes, clock, source);
    }

    /// <summary>
    /// Multiply-add pipes per core at the width <paramref name="simd"/> computes with: none without FMA, one for AVX-512
    /// on AMD's family 25 (Zen 4; Zen 3, the same family, has no AVX-512), else <see cref="AssumedFmaPipes"/>.
    /// </summary>
    internal static int PipesFor(SimdLevel simd, string? vendor, int? family) => simd switch
    {
        SimdLevel.Portable => 0,
        SimdLevel.Avx512 when vendor == "AuthenticAMD" && family == 25 => 1,
        _ => AssumedFmaPipes,
    };

    /// <summary>The value of the first "<paramref name="name"/> : value" line, or null.</summary>
    private static string? CpuinfoField(string[] cpuinfo, string name) => CpuinfoValues(cpuinfo, name).FirstOrDefault();

    /// <summary>The values of every "<paramref name="name"/> : value" line (one per logical core for most fields).</summary>
    private static IEnumerable<string> CpuinfoValues(string[] cpuinfo, string name)
    {
        foreach (string line in cpuinfo)
            if (line.IndexOf(':', StringComparison.Ordinal) is int colon and > 0 && line.AsSpan(0, colon).Trim().SequenceEqual(name))
                yield return line[(colon + 1)..].Trim();
    }

    private static double? MaximumFrequency()
    {
        double? highest = null;
        foreach (string path in Directory.Exists("/sys/devices/system/cpu")
                     ? Directory.EnumerateDirectories("/sys/devices/system/cpu", "cpu*").Select(d => Path.Combine(d, "cpufreq", "cpuinfo_max_freq"))
                     : [])
            if (ReadNumber(path) is double kilohertz)
                highest = Math.Max(highest ?? 0, kilohertz / 1000);
        return highest;
    }

    private static double? CpuinfoMegahertz(string[] cpuinfo)
    {
        double? highest = null;
        foreach (string value in CpuinfoValues(cpuinfo, "cpu MHz"))
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double mhz) && mhz > 0)
                highest = Math.Max(highest ?? 0, mhz);
        return highest;
    }

    private static double? ReadNumber(string path) =>
        ReadLines(path).FirstOrDefault() is { } text && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
            ? value
            : null;

    /// <summary>A missing or unreadable file (no /proc, no cpufreq in a VM) only costs the clock.</summary>
    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
