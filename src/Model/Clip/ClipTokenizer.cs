using System.Text;

namespace ReClip.Model.Clip;

/// <summary>
/// OpenAI CLIP's byte-level BPE tokenizer, giving the same ids as <c>clip/simple_tokenizer.py</c> and
/// <c>clip.tokenize</c> for clean text (ftfy's repair of mis-decoded text is not reproduced). Thread-safe.
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>The text length CLIP's text encoder takes, SOT and EOT included.</summary>
    public const int DefaultContextLength = 77;

    /// <summary>Where the Model assembly embeds OpenAI's bpe_simple_vocab_16e6.txt.gz (see ReClip.Model.csproj).</summary>
    internal const string EmbeddedVocabularyName = "ReClip.Model.Clip.bpe_simple_vocab_16e6.txt.gz";

    private static readonly Lazy<ClipTokenizer> DefaultTokenizer = new(LoadEmbedded);

    private readonly BpeVocabulary vocabulary;
    private readonly BytePairEncoder encoder;

    private ClipTokenizer(BpeVocabulary vocabulary)
    {
        this.vocabulary = vocabulary;
        encoder = new BytePairEncoder(vocabulary);
    }

    /// <summary>OpenAI's vocabulary, shipped inside this assembly: needs no file.</summary>
    public static ClipTokenizer Default => DefaultTokenizer.Value;

    public int StartOfTextId => vocabulary.StartOfTextId;

    public int EndOfTextId => vocabulary.EndOfTextId;

    public int VocabularySize => vocabulary.Count;

    /// <summary>Identifies the vocabulary by its content: tokenizers with the same fingerprint give the same ids.</summary>
    public string Fingerprint => vocabulary.Fingerprint;

    /// <summary>
    /// Throws unless the vocabulary has as many tokens as the text tower of <paramref name="config"/> (read from
    /// <paramref name="weightsPath"/>) has embedding rows: its ids would index the wrong rows, or none. The error ends with
    /// <paramref name="remedy"/>, what the command offers instead.
    /// </summary>
    public void RequireFits(ClipConfig config, string weightsPath, string remedy = "give the model's own with --vocab or --hf-vocab")
    {
        ArgumentNullException.ThrowIfNull(config);
        if (VocabularySize != config.VocabularySize)
            throw new ArgumentException($"{weightsPath}: the text tower has {config.VocabularySize} tokens but the vocabulary has {VocabularySize}; {remedy}");
    }

    /// <summary>Token strings in id order, for comparing vocabularies.</summary>
    internal IReadOnlyList<string> Tokens => vocabulary.Tokens;

    /// <summary>Reads OpenAI's <c>bpe_simple_vocab_16e6.txt.gz</c> (or the same text uncompressed).</summary>
    public static ClipTokenizer FromOpenAiVocabulary(string path) => new(OpenAiVocabularyFile.Read(path));

    /// <summary>Reads Hugging Face's <c>vocab.json</c> and <c>merges.txt</c>, each plain or gzip-compressed.</summary>
    public static ClipTokenizer FromHuggingFace(string vocabularyPath, string mergesPath) =>
        new(HuggingFaceVocabularyFiles.Read(vocabularyPath, mergesPath));

    /// <summary>Reads <c>vocab.json</c> and <c>merges.txt</c> (or their <c>.gz</c>) from a Hugging Face model folder.</summary>
    public static ClipTokenizer FromHuggingFaceDirectory(string directory)
    {
        (string vocabularyPath, string mergesPath) = HuggingFaceFiles(directory);
        return FromHuggingFace(vocabularyPath, mergesPath);
    }

    /// <summary>The <c>vocab.json</c> and <c>merges.txt</c> (or their <c>.gz</c>) that <see cref="FromHuggingFaceDirectory"/> reads.</summary>
    public static (string Vocabulary, string Merges) HuggingFaceFiles(string directory) => HuggingFaceVocabularyFiles.Find(directory);

    /// <summary>The BPE ids of a text, without SOT and EOT.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string cleaned = ClipTextCleaner.Clean(text);
        var ids = new List<int>(cleaned.Length / 2 + 1);
        int position = 0;
        while (ClipPreTokenizer.TryNext(cleaned, ref position, out Range word))
            encoder.AppendWord(cleaned.AsSpan()[word], ids);
        return [.. ids];
    }

    /// <summary>
    /// SOT, the text's ids and EOT, without padding: the tokens the text encoder reads. A text that does not fit
    /// <paramref name="contextLength"/> is an error, unless <paramref name="truncate"/> keeps its first
    /// <paramref name="contextLength"/> tokens with the last one replaced by EOT, as clip.tokenize(truncate=True) does.
    /// </summary>
    public int[] EncodeForContext(string text, int contextLength = DefaultContextLength, bool truncate = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contextLength);
        int[] ids = Encode(text);
        int length = ids.Length + 2;
        if (length > contextLength && !truncate)
            throw new ArgumentException($"text {Quoted(text)} is {length} tokens long with SOT and EOT, more than the context length {contextLength}");
        var delimited = new int[Math.Min(length, contextLength)];
        delimited[0] = StartOfTextId;
        ids.AsSpan(0, Math.Min(ids.Length, delimited.Length - 1)).CopyTo(delimited.AsSpan(1));
        delimited[^1] = EndOfTextId;
        return delimited;
    }

    /// <summary>A text in quotes for a message, its middle cut out when long: a whole prompt would bury the message's point.</summary>
    public static string Quoted(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const int Ends = 30;
        return text.Length <= 2 * Ends + 1 ? $"\"{text}\"" : $"\"{text[..Ends]}…{text[^Ends..]}\"";
    }

    /// <summary>One row of clip.tokenize: SOT, the text's ids, EOT, then zeros up to <paramref name="contextLength"/>.</summary>
    public int[] Tokenize(string text, int contextLength = DefaultContextLength, bool truncate = false)
    {
        int[] delimited = EncodeForContext(text, contextLength, truncate);
        var row = new int[contextLength];
        delimited.CopyTo(row, 0);
        return row;
    }

    /// <summary>
    /// The text of token ids, as OpenAI's decode gives it: the end of each word becomes a space, and bytes that do not
    /// form UTF-8 become U+FFFD.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var symbols = new StringBuilder();
        foreach (int id in ids)
            symbols.Append(vocabulary.TokenOf(id));
        var bytes = new byte[symbols.Length];
        for (int i = 0; i < symbols.Length; i++)
            bytes[i] = ByteLevelAlphabet.ByteOf(symbols[i]);
        return Encoding.UTF8.GetString(bytes).Replace(BpeVocabulary.EndOfWord, " ", StringComparison.Ordinal);
    }

    private static ClipTokenizer LoadEmbedded()
    {
        using Stream stream = typeof(ClipTokenizer).Assembly.GetManifestResourceStream(EmbeddedVocabularyName)
            ?? throw new InvalidOperationException($"the Model assembly lacks its embedded resource {EmbeddedVocabularyName}");
        return new ClipTokenizer(OpenAiVocabularyFile.Read(stream, $"embedded {EmbeddedVocabularyName}"));
    }
}
