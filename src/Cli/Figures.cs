using System.Globalization;

namespace ReClip.Cli;

/// <summary>How the commands print scores: fractions as percent with two decimals, bias scores with three, "n/a" for an undefined value; JSON gets null.</summary>
public static class Figures
{
    public static string Percent(double value) => double.IsFinite(value) ? (100 * value).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";

    public static string Score(double value) => double.IsFinite(value) ? value.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    /// <summary>The value, or null when it is NaN or infinite (JSON has no such numbers).</summary>
    public static double? Finite(double? value) => value is double v && double.IsFinite(v) ? v : null;
}
