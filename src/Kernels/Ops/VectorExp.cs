using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ReClip.Kernels.Ops;

/// <summary>
/// e^x of 8 floats in float arithmetic, within 2 ulp of the exact value for x in [−87.3, 88]. The runtime's
/// <c>Vector256.Exp(float)</c> widens to double for its accuracy, which made QuickGELU 2.4× slower than PyTorch's
/// (bench case block224_quickgelu); this is the classic reduction instead: x = n·ln 2 + r with |r| ≤ ln 2 / 2
/// (ln 2 split in two so n·ln 2 is exact), e^r by a degree-7 polynomial (Cephes' expf coefficients), and 2^n put
/// into the exponent bits. Outside the range the result is what e^x rounds to: +∞ above
/// <see cref="OverflowBound"/>, 0 below <see cref="UnderflowBound"/> (where e^x is subnormal or smaller; flushed),
/// and NaN stays NaN. There is no 512-bit form: Zen 4 runs 512-bit arithmetic as two 256-bit halves anyway, and
/// QuickGELU on 512-bit vectors made of two such halves measured 10 % slower than on 256-bit ones.
/// </summary>
internal static class VectorExp
{
    /// <summary>
    /// The largest x taken: n = round(x·log₂e) must stay ≤ 127 to fit float's exponent bits. e^88 is 1.65e38, within a
    /// factor of 2.1 of float's largest value, so the few x above it whose e^x is still finite come out +∞.
    /// </summary>
    public const float OverflowBound = 88f;

    /// <summary>The smallest x whose e^x is a normal float (2^−126).</summary>
    public const float UnderflowBound = -87.3365447505531f;

    private const float Log2E = 1.44269504088896341f, Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;

    /// <summary>1.5·2^23: adding it rounds a float below 2^22 in magnitude to the nearest integer (ties to even).</summary>
    private const float RoundingShift = 12582912f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        Vector256<float> clamped = Vector256.Min(Vector256.Max(x, Vector256.Create(UnderflowBound)), Vector256.Create(OverflowBound));
        Vector256<float> n = Vector256.FusedMultiplyAdd(clamped, Vector256.Create(Log2E), Vector256.Create(RoundingShift)) - Vector256.Create(RoundingShift);
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2High), clamped);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Low), r);
        Vector256<float> p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        Vector256<float> scale = (Vector256.ConvertToInt32(n) + Vector256.Create(127) << 23).AsSingle();
        Vector256<float> result = p * scale;
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(OverflowBound)), Vector256.Create(float.PositiveInfinity), result);
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(UnderflowBound)), Vector256<float>.Zero, result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>
    /// values[i] = e^(values[i] − shift) in place and their sum: a softmax row's exponentials and denominator in one pass
    /// (shift = the row maximum), or probabilities recomputed from a saved logsumexp. The runtime's
    /// <c>TensorPrimitives.Exp</c> took most of a 442-token attention's softmax time on the double-widening path.
    /// </summary>
    public static unsafe float ExpShifted(float* values, int count, float shift)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> offset = Vector256.Create(shift), total = Vector256<float>.Zero;
            for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> e = Exp(Vector256.Load(values + i) - offset);
                Vector256.Store(e, values + i);
                total += e;
            }
            sum = Vector256.Sum(total);
        }
        for (; i < count; i++)
        {
            values[i] = MathF.Exp(values[i] - shift);
            sum += values[i];
        }
        return sum;
    }
}
