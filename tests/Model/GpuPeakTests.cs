using ReClip.Model.Benchmarks;

namespace ReClip.Tests.Model;

/// <summary>Cards by the names their drivers report, the most specific entry first; a card not in the table has no peak.</summary>
[TestFixture]
public sealed class GpuPeakTests
{
    [TestCase("NVIDIA H100 80GB HBM3", "H100 SXM", 989.4, 3350)]
    [TestCase("NVIDIA H100 PCIe", "H100 PCIe", 756.5, 2000)]
    [TestCase("NVIDIA H100 NVL", "H100 NVL", 835.5, 3900)]
    [TestCase("NVIDIA H200", "H200 SXM", 989.4, 4800)]
    [TestCase("NVIDIA H200 NVL", "H200 NVL", 835.5, 4800)]
    [TestCase("NVIDIA A100-SXM4-80GB", "A100 SXM 80GB", 312.0, 2039)]
    [TestCase("NVIDIA A100 80GB PCIe", "A100 PCIe 80GB", 312.0, 1935)]
    [TestCase("NVIDIA L40S", "L40S", 362.1, 864)]
    [TestCase("NVIDIA L4", "L4", 121.0, 300)]
    [TestCase("NVIDIA A10", "A10", 125.0, 600)]
    public void KnownCardsHaveTheirDatasheetFigures(string name, string card, double bfloat16, double bandwidth)
    {
        GpuPeak? peak = GpuPeak.Of(name);
        Assert.That(peak, Is.Not.Null);
        Assert.That(peak!.Card, Is.EqualTo(card));
        Assert.That(peak.BFloat16TeraFlops, Is.EqualTo(bfloat16));
        Assert.That(peak.MemoryGigabytesPerSecond, Is.EqualTo(bandwidth));
    }

    [TestCase("Tesla V100-SXM2-16GB")]
    [TestCase("NVIDIA A10G")]
    [TestCase("NVIDIA GeForce RTX 4090")]
    public void OtherCardsHaveNone(string name) => Assert.That(GpuPeak.Of(name), Is.Null);
}
