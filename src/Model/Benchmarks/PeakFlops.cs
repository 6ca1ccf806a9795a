using System.Globalization;
using ReClip.Runtime.Platform;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// The theoretical single-precision peak of the compute threads: threads × SIMD lanes × FMA pipes × 2 flops × clock.
/// Two FMA pipes per core is an assumption (Intel since Haswell, AMD since Zen 2 have them at the vector width used
/// here); the clock is the highest cpufreq maximum, else the highest "cpu MHz" of /proc/cpuinfo (virtual machines
/// often show only the nominal clock there, and turbo clocks are not reached on all cores at once). Without
/// FMA or a readable clock the peak is unknown.
/// </summary>
public sealed record PeakFlops(int Threads, int SimdLanes, int FmaPipes, double? ClockMegahertz, string ClockSource)
{
    public const int AssumedFmaPipes = 2;

    public double? GigaFlops => ClockMegahertz is double mhz && FmaPipes > 0 ? Threads * SimdLanes * FmaPipes * 2.0 * mhz / 1000 : null;

    public static PeakFlops OfThisMachine()
    {
        (int lanes, int pipes) = CpuInfo.Simd switch
        {
            SimdLevel.Avx512 => (16, AssumedFmaPipes),
            SimdLevel.Avx2Fma => (8, AssumedFmaPipes),
            _ => (System.Numerics.Vector<float>.Count, 0),
        };
        (double? clock, string source) = MaximumFrequency() is double max ? (max, "cpufreq cpuinfo_max_freq")
            : CpuinfoMegahertz() is double current ? (current, "/proc/cpuinfo cpu MHz")
            : ((double?)null, "unknown");
        return new PeakFlops(CpuInfo.Threads, lanes, pipes, clock, source);
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

    private static double? CpuinfoMegahertz()
    {
        double? highest = null;
        foreach (string line in ReadLines("/proc/cpuinfo"))
            if (line.StartsWith("cpu MHz", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is int colon and > 0
                && double.TryParse(line.AsSpan(colon + 1).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double mhz) && mhz > 0)
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
