namespace ReClip.Kernels.Checks;

/// <summary>
/// How far a result may be from its reference, per element: |got − want| ≤ Absolute + Relative·|want|
/// (the llm.c convention). Each op states its own, with the reason.
/// </summary>
public readonly record struct Tolerance(double Absolute, double Relative)
{
    public double Allowed(double reference) => Absolute + Relative * Math.Abs(reference);

    /// <summary>
    /// The same for a result stored in bfloat16: rounding adds up to half a step, 2⁻⁹ of the value, and where the float32
    /// error crosses a rounding boundary a whole step, 2⁻⁸.
    /// </summary>
    public Tolerance WithBFloat16Rounding() => this with { Relative = Relative + 1.0 / 256 };
}

/// <summary>The worst disagreement between a result and its reference, and whether it is within tolerance.</summary>
public readonly record struct Agreement(double MaxAbsoluteError, double MaxRelativeError, double WorstRatio, int WorstIndex)
{
    /// <summary>Worst error divided by what the tolerance allowed there: ≤ 1 passes.</summary>
    public bool Passed => WorstRatio <= 1;

    public static Agreement Measure(ReadOnlySpan<float> got, ReadOnlySpan<float> want, Tolerance tolerance)
    {
        if (got.Length != want.Length)
            throw new ArgumentException($"compare: {got.Length} values against {want.Length} reference values");
        double maxAbsolute = 0, maxRelative = 0, worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < got.Length; i++)
        {
            // Non-finite values are compared by identity: the same NaN-ness or the same infinity is exact, any
            // other pairing with a non-finite value fails (a tolerance of ∞ would otherwise accept anything).
            double error, ratio;
            if (float.IsFinite(got[i]) && float.IsFinite(want[i]))
            {
                error = Math.Abs((double)got[i] - want[i]);
                double allowed = tolerance.Allowed(want[i]);
                ratio = allowed > 0 ? error / allowed : error == 0 ? 0 : double.PositiveInfinity;
            }
            else
            {
                error = got[i].Equals(want[i]) ? 0 : double.PositiveInfinity; // float.Equals holds for NaN against NaN
                ratio = error;
            }
            maxAbsolute = Math.Max(maxAbsolute, error);
            if (want[i] != 0 && float.IsFinite(want[i])) maxRelative = Math.Max(maxRelative, error / Math.Abs(want[i]));
            if (ratio > worst || worstIndex < 0)
            {
                worst = ratio;
                worstIndex = i;
            }
        }
        return new Agreement(maxAbsolute, maxRelative, worst, worstIndex);
    }
}
