using System.Buffers;
using System.Globalization;
using System.Text;

namespace ReClip.Model.Clip;

/// <summary>
/// Lowercases as Python's <c>str.lower()</c> does, which OpenAI's tokenizer applies to every text. .NET's invariant
/// mapping is Unicode's simple one; Python adds the two full mappings that lowercase differently: İ (U+0130)
/// becomes "i̇" (i + combining dot above), and Σ becomes the final form ς at the end of a word.
/// </summary>
internal static class PythonLowercase
{
    private const char CapitalIWithDot = '\u0130';
    private const char CapitalSigma = '\u03A3';
    private const string LowerIWithDot = "i\u0307";
    private const char SmallSigma = '\u03C3';
    private const char FinalSigma = '\u03C2';

    public static string ToLower(string text)
    {
        string simple = text.ToLowerInvariant();
        if (text.AsSpan().IndexOfAny(CapitalIWithDot, CapitalSigma) < 0)
            return simple;
        // The simple mapping keeps every UTF-16 unit in place, so `simple[i]` is the lowercase of `text[i]`.
        var lowered = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case CapitalIWithDot: lowered.Append(LowerIWithDot); break;
                case CapitalSigma: lowered.Append(EndsWord(text, i) ? FinalSigma : SmallSigma); break;
                default: lowered.Append(simple[i]); break;
            }
        }
        return lowered.ToString();
    }

    /// <summary>
    /// Unicode's Final_Sigma condition (as Python tests it): a cased letter before the sigma and none after it,
    /// looking past case-ignorable characters (marks, format characters, apostrophes, …) on both sides.
    /// </summary>
    private static bool EndsWord(string text, int sigma)
    {
        int before = sigma;
        Rune previous = default;
        bool foundBefore = false;
        while (before > 0 && Rune.DecodeLastFromUtf16(text.AsSpan(0, before), out previous, out int width) == OperationStatus.Done)
        {
            before -= width;
            if (!IsCaseIgnorable(previous)) { foundBefore = true; break; }
        }
        if (!foundBefore || !IsCased(previous))
            return false;
        int after = sigma + 1;
        while (after < text.Length && Rune.DecodeFromUtf16(text.AsSpan(after), out Rune next, out int width) == OperationStatus.Done)
        {
            if (!IsCaseIgnorable(next))
                return !IsCased(next);
            after += width;
        }
        return true;
    }

    /// <summary>
    /// Cased letters plus anything that has another case (circled letters, Roman numerals). Unicode's
    /// Other_Lowercase letters without a case pair (ª, º, modifier letters) are missed: harmless next to Σ.
    /// </summary>
    private static bool IsCased(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        || Rune.ToLowerInvariant(rune) != rune || Rune.ToUpperInvariant(rune) != rune;

    /// <summary>Unicode's Case_Ignorable: marks, format characters, modifiers, and the word-internal punctuation of UAX #29.</summary>
    private static bool IsCaseIgnorable(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || rune.Value is '\'' or '.' or ':' or '\u00B7' or '\u0387' or '\u055F' or '\u05F4' or '\u2018' or '\u2019' or '\u2024'
            or '\u2027' or '\uFE13' or '\uFE52' or '\uFE55' or '\uFF07' or '\uFF0E' or '\uFF1A';
}
