using ReClip.Runtime.Platform;

namespace ReClip.Tests.Runtime;

/// <summary>RECLIP_THREADS: a whole number in 1..MaxThreads is used, unset or blank means every core, anything else is refused.</summary>
[TestFixture]
public sealed class CpuInfoTests
{
    [TestCase(null, null)]
    [TestCase("", null)]
    [TestCase("  ", null)]
    [TestCase("1", 1)]
    [TestCase(" 8 ", 8)]
    [TestCase("1024", 1024)]
    public void AcceptedValues(string? value, int? threads) => Assert.That(CpuInfo.RequestedThreads(value), Is.EqualTo(threads));

    [TestCase("0")]
    [TestCase("-2")]
    [TestCase("1025")]
    [TestCase("99999999999")]
    [TestCase("four")]
    [TestCase("2.5")]
    [TestCase("+4")]
    public void RefusedValuesNameTheVariableAndTheValue(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => CpuInfo.RequestedThreads(value));
        Assert.That(e!.Message, Is.EqualTo($"RECLIP_THREADS: expected a whole number of threads from 1 to 1024, got '{value}'"));
    }
}
