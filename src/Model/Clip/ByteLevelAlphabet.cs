namespace ReClip.Model.Clip;

/// <summary>
/// The 256 characters that byte-level BPE (GPT-2, CLIP) uses in place of the bytes of UTF-8 text, so that
/// every byte is a visible symbol and merges never have to deal with spaces or control characters.
/// A byte that is a printable Latin-1 character stands for itself; the other 68 (controls, space, DEL,
/// no-break space, soft hyphen) take U+0100, U+0101, … in byte order.
/// </summary>
internal static class ByteLevelAlphabet
{
    public const int Size = 256;

    private const char FirstRemapped = '\u0100';

    private static readonly char[] SymbolOfByte = BuildSymbols();

    private static readonly int[] ByteOfSymbol = BuildInverse();

    /// <summary>
    /// The symbols in the order of OpenAI's vocabulary (ids 0–255): the printable bytes first, then the remapped
    /// ones. Because the remapped characters all lie above U+00FF, that order is simply ascending character order.
    /// </summary>
    public static IEnumerable<char> SymbolsInVocabularyOrder => SymbolOfByte.Order();

    public static char SymbolOf(byte value) => SymbolOfByte[value];

    public static bool IsSymbol(char symbol) => symbol < ByteOfSymbol.Length && ByteOfSymbol[symbol] >= 0;

    public static byte ByteOf(char symbol) => IsSymbol(symbol)
        ? (byte)ByteOfSymbol[symbol]
        : throw new ArgumentOutOfRangeException(nameof(symbol), symbol, $"U+{(int)symbol:X4} is not a byte-level BPE symbol");

    private static bool IsPrintable(int value) =>
        value is >= '!' and <= '~' or >= '\u00A1' and <= '\u00AC' or >= '\u00AE' and <= '\u00FF';

    private static char[] BuildSymbols()
    {
        var symbols = new char[Size];
        char next = FirstRemapped;
        for (int value = 0; value < Size; value++)
            symbols[value] = IsPrintable(value) ? (char)value : next++;
        return symbols;
    }

    private static int[] BuildInverse()
    {
        var inverse = new int[FirstRemapped + Size];
        Array.Fill(inverse, -1);
        for (int value = 0; value < Size; value++)
            inverse[SymbolOfByte[value]] = value;
        return inverse;
    }
}
