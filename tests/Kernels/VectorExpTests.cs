using System.Runtime.Intrinsics;
using ReClip.Kernels.Ops;

namespace ReClip.Tests.Kernels;

/// <summary>VectorExp against the double-precision exponential, over its range and at its edges.</summary>
[TestFixture]
public sealed class VectorExpTests
{
    /// <summary>
    /// Two units in the last place of a float (2^−22 relative): the reduction is exact, the polynomial is within
    /// about 1 ulp on |r| ≤ ln 2 / 2, and the final product rounds once more.
    /// </summary>
    private const double UlpTolerance = 2.0 / (1 << 23);

    [Test]
    public void MatchesTheDoubleExponentialOverTheNormalRange()
    {
        double worst = 0;
        var inputs = new float[8];
        const int points = 400_000;
        for (int step = 0; step < points; step += inputs.Length)
        {
            for (int i = 0; i < inputs.Length; i++)
                inputs[i] = Math.Min(VectorExp.OverflowBound, VectorExp.UnderflowBound + (VectorExp.OverflowBound - VectorExp.UnderflowBound) * (step + i) / (points - 1f));
            Vector256<float> result = VectorExp.Exp(Vector256.Create(inputs));
            for (int i = 0; i < inputs.Length; i++)
            {
                double exact = Math.Exp(inputs[i]);
                worst = Math.Max(worst, Math.Abs(result[i] - exact) / exact);
            }
        }
        TestContext.Out.WriteLine($"largest relative error {worst:G3} ({worst * (1 << 23):F2} ulp)");
        Assert.That(worst, Is.LessThanOrEqualTo(UlpTolerance));
    }

    [Test]
    public void EdgesGiveWhatTheExponentialRoundsTo()
    {
        float[] x = [float.NegativeInfinity, -1000f, VectorExp.UnderflowBound - 0.01f, 0f, -0f, VectorExp.OverflowBound + 0.01f, 1000f, float.PositiveInfinity];
        Vector256<float> result = VectorExp.Exp(Vector256.Create(x));
        Assert.That(new[] { result[0], result[1], result[2] }, Is.All.EqualTo(0f), "below the normal range: 0");
        Assert.That(new[] { result[3], result[4] }, Is.All.EqualTo(1f), "e^0 = 1 exactly");
        Assert.That(new[] { result[5], result[6], result[7] }, Is.All.EqualTo(float.PositiveInfinity), "above the bound: +∞");
        Assert.That(float.IsNaN(VectorExp.Exp(Vector256.Create(float.NaN))[0]), "NaN stays NaN");
    }
}
