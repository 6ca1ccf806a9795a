namespace ReClip.Tests.Support;

/// <summary>
/// Central differences of a scalar loss, (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h, for checking a backward pass.
/// The truncation error is O(h²·L‴) and the rounding error about ε·|L|/h; with float32 forwards
/// (ε ≈ 6e-8) and O(1) losses a step near 1e-2 balances the two at ~1e-4, which sets the tolerances.
/// </summary>
public static class FiniteDifference
{
    public static double Derivative(float[] x, int index, Func<float[], double> loss, float step)
    {
        float original = x[index];
        x[index] = original + step;
        double plus = loss(x);
        x[index] = original - step;
        double minus = loss(x);
        x[index] = original;
        return (plus - minus) / (2.0 * step);
    }

    /// <summary>Up to <paramref name="count"/> indices spread over [0, length), always including the first and last.</summary>
    public static IEnumerable<int> Sample(int length, int count)
    {
        if (length <= count)
            return Enumerable.Range(0, length);
        return Enumerable.Range(0, count).Select(i => (int)((long)i * (length - 1) / (count - 1))).Distinct();
    }

    /// <summary>Σ a·b in double: the scalar loss whose gradient with respect to the op's output is <paramref name="weights"/>.</summary>
    public static double Dot(ReadOnlySpan<float> values, ReadOnlySpan<float> weights)
    {
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
            sum += (double)values[i] * weights[i];
        return sum;
    }
}
