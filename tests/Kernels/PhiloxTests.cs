using ReClip.Kernels.Random;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class PhiloxTests
{
    // Samples for the statistical smoke tests; every bound below is five standard deviations of its statistic
    // at this count, and the inputs are fixed, so the tests are deterministic and fail only on a real defect.
    private const int Samples = 1 << 20;

    /// <summary>Random123's kat_vectors for philox4x32-10: counter (4 words), key (2 words), expected output.</summary>
    [TestCase(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [TestCase(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [TestCase(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void MatchesTheKnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint x0, uint x1, uint x2, uint x3) =>
        Assert.That(Philox.Block(c0, c1, c2, c3, k0, k1), Is.EqualTo((x0, x1, x2, x3)));

    [Test]
    public void ElementsTakeTheWordsOfTheirBlockInOrder()
    {
        ulong seed = 0x0123456789abcdef, stream = 0xfedcba9876543210, block = 0x1_0000_0002;
        var words = Philox.Block((uint)block, (uint)(block >> 32), (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));
        Assert.Multiple(() =>
        {
            Assert.That(Philox.Bits(seed, stream, block * 4), Is.EqualTo(words.X0));
            Assert.That(Philox.Bits(seed, stream, block * 4 + 1), Is.EqualTo(words.X1));
            Assert.That(Philox.Bits(seed, stream, block * 4 + 2), Is.EqualTo(words.X2));
            Assert.That(Philox.Bits(seed, stream, block * 4 + 3), Is.EqualTo(words.X3));
            Assert.That(Philox.Uniform(seed, stream, block * 4 + 1), Is.EqualTo(Philox.ToUniform(words.X1)));
        });
    }

    [TestCase(0ul, 0)]
    [TestCase(3ul, 1)]
    [TestCase(6ul, 17)]
    [TestCase(0x3_ffff_fffbul, 11)] // the block index crosses 2³², into the counter's second word
    public void FillGivesTheSameNumbersAsOneAtATime(ulong first, int count)
    {
        float[] filled = new float[count];
        Philox.FillUniform(42, 7, first, filled);
        float[] single = Enumerable.Range(0, count).Select(i => Philox.Uniform(42, 7, first + (ulong)i)).ToArray();
        Assert.That(filled, Is.EqualTo(single));
    }

    [Test]
    public void UniformsStayInsideTheOpenInterval()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Philox.ToUniform(0), Is.EqualTo(MathF.Pow(2, -24)));
            Assert.That(Philox.ToUniform(uint.MaxValue), Is.EqualTo(1 - MathF.Pow(2, -24)));
            Assert.That(Philox.ToUniform(uint.MaxValue), Is.LessThan(1f));
            Assert.That(-MathF.Log(-MathF.Log(Philox.ToUniform(uint.MaxValue))), Is.LessThan(float.PositiveInfinity));
        });
    }

    [Test]
    public void UniformsLookUniform()
    {
        float[] u = new float[Samples];
        Philox.FillUniform(2024, 0, 0, u);
        const int bins = 64;
        long[] counts = new long[bins];
        double sum = 0, squares = 0;
        foreach (float v in u)
        {
            sum += v;
            squares += (v - 0.5) * (v - 0.5);
            counts[(int)(v * bins)]++;
        }
        double expected = (double)Samples / bins, chiSquare = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.Multiple(() =>
        {
            // mean: σ = √(1/12/n) ≈ 2.8e-4; variance: σ = √(1/180/n) ≈ 7.3e-5; χ² with 63 degrees of freedom: 63 ± 11.2.
            Assert.That(sum / Samples, Is.EqualTo(0.5).Within(5 * Math.Sqrt(1.0 / 12 / Samples)));
            Assert.That(squares / Samples, Is.EqualTo(1.0 / 12).Within(5 * Math.Sqrt(1.0 / 180 / Samples)));
            Assert.That(chiSquare, Is.LessThan(63 + 5 * Math.Sqrt(2 * 63)));
        });
    }

    [Test]
    public void SeedsAndStreamsGiveUnrelatedNumbers()
    {
        const int count = 1 << 16;
        float[] a = new float[count], otherSeed = new float[count], otherStream = new float[count];
        Philox.FillUniform(1, 0, 0, a);
        Philox.FillUniform(2, 0, 0, otherSeed);
        Philox.FillUniform(1, 1, 0, otherStream);
        // Correlation of independent uniforms: σ = 1/√n ≈ 3.9e-3.
        Assert.Multiple(() =>
        {
            Assert.That(Correlation(a, otherSeed), Is.EqualTo(0).Within(5 / Math.Sqrt(count)));
            Assert.That(Correlation(a, otherStream), Is.EqualTo(0).Within(5 / Math.Sqrt(count)));
            Assert.That(Correlation(a.AsSpan(1).ToArray(), a.AsSpan(0, count - 1).ToArray()), Is.EqualTo(0).Within(5 / Math.Sqrt(count)));
        });
    }

    private static double Correlation(float[] x, float[] y)
    {
        double mx = x.Average(v => (double)v), my = y.Average(v => (double)v), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.Sqrt(sxx * syy);
    }
}
