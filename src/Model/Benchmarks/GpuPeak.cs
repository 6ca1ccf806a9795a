using System.Text.RegularExpressions;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// A card's datasheet ceilings, looked up by the name its driver reports: dense bfloat16 tensor-core TFLOP/s (float32
/// accumulation, no sparsity), plain float32 TFLOP/s (no TF32) and memory bandwidth. The benchmark sets its model FLOP/s
/// against the first two (MFU) and its memory-bound kernels' bytes/s against the third.
/// </summary>
public sealed record GpuPeak(string Card, double BFloat16TeraFlops, double Float32TeraFlops, double MemoryGigabytesPerSecond)
{
    // The most specific names first: "H200 NVL" before "H200", "A100 80GB PCIe" before the SXM4 forms, "L40S" before "L4".
    private static readonly (Regex Name, GpuPeak Peak)[] Known =
    [
        (Named(@"H200 NVL"), new("H200 NVL", 835.5, 60.0, 4800)),
        (Named(@"H200"), new("H200 SXM", 989.4, 66.9, 4800)),
        (Named(@"H100 NVL"), new("H100 NVL", 835.5, 60.0, 3900)),
        (Named(@"H100 PCIe"), new("H100 PCIe", 756.5, 51.2, 2000)),
        (Named(@"H100(\b.*\bHBM3|\b.*\bSXM)"), new("H100 SXM", 989.4, 66.9, 3350)),
        (Named(@"A100 80GB PCIe"), new("A100 PCIe 80GB", 312, 19.5, 1935)),
        (Named(@"A100-PCIE-40GB"), new("A100 PCIe 40GB", 312, 19.5, 1555)),
        (Named(@"A100-SXM4-80GB"), new("A100 SXM 80GB", 312, 19.5, 2039)),
        (Named(@"A100-SXM4-40GB"), new("A100 SXM 40GB", 312, 19.5, 1555)),
        (Named(@"L40S"), new("L40S", 362.1, 91.6, 864)),
        (Named(@"L4"), new("L4", 121, 30.3, 300)),
        (Named(@"A10"), new("A10", 125, 31.2, 600)),
    ];

    /// <summary>The ceilings of the card called <paramref name="deviceName"/> (e.g. "NVIDIA H100 80GB HBM3"), or null for a card not in the table.</summary>
    public static GpuPeak? Of(string deviceName)
    {
        ArgumentNullException.ThrowIfNull(deviceName);
        foreach ((Regex name, GpuPeak peak) in Known)
            if (name.IsMatch(deviceName))
                return peak;
        return null;
    }

    /// <summary>A name as a whole word or words ("L4" does not match "L40S", nor "A10" "A100").</summary>
    private static Regex Named(string pattern) => new($@"\b{pattern}\b", RegexOptions.CultureInvariant);
}
