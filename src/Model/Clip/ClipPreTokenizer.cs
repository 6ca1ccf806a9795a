using System.Globalization;
using System.Text;

namespace ReClip.Model.Clip;

/// <summary>
/// Splits cleaned text into the words that BPE then encodes one by one, exactly as OpenAI's pattern
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// (case-insensitive) does under Python's regex module: tried in that order at each position, white space skipped.
/// Written as a scanner over Unicode scalar values rather than a .NET Regex because .NET's regex classifies UTF-16
/// units, so a letter or digit outside the BMP (𠀀, 𝟎) would be taken for punctuation.
/// </summary>
internal static class ClipPreTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";

    private static readonly string[] LiteralAlternatives = [StartOfText, EndOfText, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    /// <summary>
    /// Case-insensitive, Python's regex module lets the combining ypogegrammeni (U+0345, whose case fold ι is a
    /// letter) match neither [\p{L}] nor [^\s\p{L}\p{N}], so the pattern steps over it as over white space.
    /// </summary>
    private const int UnmatchedByPattern = 0x0345;

    private enum CharacterClass { Letter, Number, Skipped, Other }

    /// <summary>Finds the next word at or after <paramref name="position"/> and moves past it; false when none is left.</summary>
    public static bool TryNext(ReadOnlySpan<char> text, ref int position, out Range word)
    {
        while (position < text.Length)
        {
            int start = position;
            int literal = LiteralLengthAt(text[start..]);
            if (literal > 0)
            {
                position += literal;
                word = start..position;
                return true;
            }
            CharacterClass first = Classify(text[start..], out int width);
            position += width;
            switch (first)
            {
                case CharacterClass.Skipped:
                    continue;
                case CharacterClass.Letter or CharacterClass.Other:
                    SkipWhile(text, ref position, first);
                    break;
            }
            word = start..position;
            return true;
        }
        word = default;
        return false;
    }

    private static void SkipWhile(ReadOnlySpan<char> text, ref int position, CharacterClass run)
    {
        while (position < text.Length && Classify(text[position..], out int width) == run)
            position += width;
    }

    private static int LiteralLengthAt(ReadOnlySpan<char> text)
    {
        if (text[0] is not ('<' or '\''))
            return 0;
        foreach (string literal in LiteralAlternatives)
            if (StartsWithIgnoringCase(text, literal))
                return literal.Length;
        return 0;
    }

    /// <summary>
    /// Python's IGNORECASE compares simple case folds: besides upper case, the long s (ſ, U+017F) counts as s.
    /// No other character folds to a letter of these literals.
    /// </summary>
    private static bool StartsWithIgnoringCase(ReadOnlySpan<char> text, string literal)
    {
        if (text.Length < literal.Length)
            return false;
        for (int i = 0; i < literal.Length; i++)
        {
            char c = text[i], expected = literal[i];
            bool same = c == expected || c == char.ToUpperInvariant(expected) || expected == 's' && c == '\u017F';
            if (!same)
                return false;
        }
        return true;
    }

    private static CharacterClass Classify(ReadOnlySpan<char> text, out int width)
    {
        Rune.DecodeFromUtf16(text, out Rune rune, out width);
        if (Rune.IsWhiteSpace(rune) || rune.Value == UnmatchedByPattern)
            return CharacterClass.Skipped;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharacterClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharacterClass.Number,
            _ => CharacterClass.Other,
        };
    }
}
