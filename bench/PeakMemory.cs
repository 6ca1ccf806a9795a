using System.Globalization;

namespace ReClip.Bench;

/// <summary>
/// This process's peak resident set size (Linux VmHWM): everything it holds, the .NET runtime, the weights and
/// every tensor included. Reset when a comparison case is set up, so the figure read after its rounds is the
/// peak while that case ran (earlier cases' freed memory does not count, their live memory does).
/// </summary>
public static class PeakMemory
{
    private static bool reset;

    /// <summary>Sets the high-water mark back to the current resident size ("5" to clear_refs, Linux ≥ 4.0).</summary>
    public static void Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            reset = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            reset = false;
        }
    }

    /// <summary>The peak resident size in MiB since the last <see cref="Reset"/>, or NaN where it cannot be known.</summary>
    public static double Mebibytes()
    {
        if (!reset) return double.NaN;
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
