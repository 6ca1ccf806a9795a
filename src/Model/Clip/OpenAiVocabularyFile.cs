namespace ReClip.Model.Clip;

/// <summary>
/// OpenAI's <c>bpe_simple_vocab_16e6.txt.gz</c>: a header line, then merges best first, far more than CLIP uses.
/// CLIP takes the first <see cref="MergeCount"/> and builds its vocabulary in this order: the 256 byte symbols,
/// the same ending a word, the result of each merge, then the special tokens (ids 49406 and 49407).
/// </summary>
internal static class OpenAiVocabularyFile
{
    /// <summary>CLIP's 49152-token BPE budget less the 256 byte symbols and the 2 special tokens, as OpenAI slices the file.</summary>
    public const int MergeCount = 49152 - ByteLevelAlphabet.Size - 2;

    public static BpeVocabulary Read(string path) => Parse(VocabularyFileContent.ReadBytes(path), path);

    public static BpeVocabulary Read(Stream stream, string source) => Parse(VocabularyFileContent.ReadBytes(stream, source), source);

    private static BpeVocabulary Parse(byte[] content, string source)
    {
        List<BpeMergeLine> merges = BpeMergeLine.ParseAll(VocabularyFileContent.DecodeText(content, source), source, MergeCount);
        if (merges.Count < MergeCount)
            throw new InvalidDataException($"{source}: has {merges.Count} merge lines after its header, CLIP's vocabulary needs {MergeCount}");
        var tokens = new List<string>(BpeVocabulary.TokensBesideMerges + merges.Count);
        foreach (char symbol in ByteLevelAlphabet.SymbolsInVocabularyOrder)
            tokens.Add(symbol.ToString());
        foreach (char symbol in ByteLevelAlphabet.SymbolsInVocabularyOrder)
            tokens.Add(symbol + BpeVocabulary.EndOfWord);
        foreach (BpeMergeLine merge in merges)
            tokens.Add(merge.First + merge.Second);
        tokens.Add(ClipPreTokenizer.StartOfText);
        tokens.Add(ClipPreTokenizer.EndOfText);
        return new BpeVocabulary(tokens, merges, source, source);
    }
}
