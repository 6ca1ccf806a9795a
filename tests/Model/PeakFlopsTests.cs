using ReClip.Model.Benchmarks;
using ReClip.Runtime.Platform;

namespace ReClip.Tests.Model;

/// <summary>The multiply-add pipes the peak counts: two at the width used, one for AVX-512 on Zen 4, none without FMA.</summary>
[TestFixture]
public sealed class PeakFlopsTests
{
    [TestCase(SimdLevel.Avx512, "AuthenticAMD", 25, 1)] // Zen 4: 512-bit operations as two 256-bit halves
    [TestCase(SimdLevel.Avx2Fma, "AuthenticAMD", 25, 2)] // Zen 3, or Zen 4 on 256-bit vectors
    [TestCase(SimdLevel.Avx512, "AuthenticAMD", 26, 2)] // Zen 5: full-width pipes
    [TestCase(SimdLevel.Avx512, "GenuineIntel", 6, 2)]
    [TestCase(SimdLevel.Avx512, null, null, 2)] // no /proc/cpuinfo: the assumption
    [TestCase(SimdLevel.Portable, "AuthenticAMD", 25, 0)]
    public void PipesFollowTheCoreAndTheWidth(SimdLevel simd, string? vendor, int? family, int pipes) =>
        Assert.That(PeakFlops.PipesFor(simd, vendor, family), Is.EqualTo(pipes));
}
