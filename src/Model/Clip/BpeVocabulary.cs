using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace ReClip.Model.Clip;

/// <summary>
/// A byte-level BPE vocabulary as CLIP uses it: the token strings by id, the ids of the 512 byte symbols (each
/// byte inside a word and at its end, marked "&lt;/w&gt;"), the ranked merges between ids, and the two special tokens.
/// Built from either file format and checked on the way, so that encoding can never meet a symbol without an id.
/// </summary>
internal sealed class BpeVocabulary
{
    public const string EndOfWord = "</w>";

    /// <summary>Byte symbols, the same at the end of a word, and the two special tokens: every token not made by a merge.</summary>
    public const int TokensBesideMerges = 2 * ByteLevelAlphabet.Size + 2;

    private static readonly SearchValues<char> ByteSymbols = SearchValues.Create(ByteLevelAlphabet.SymbolsInVocabularyOrder.ToArray());

    private readonly string[] tokens;
    private readonly int[] byteIds = new int[ByteLevelAlphabet.Size];
    private readonly int[] wordEndByteIds = new int[ByteLevelAlphabet.Size];
    private readonly Dictionary<long, Merge> merges;

    /// <param name="tokens">Token strings in id order.</param>
    /// <param name="mergeLines">Merges, best first.</param>
    /// <param name="vocabularySource">The file the tokens came from, for errors.</param>
    /// <param name="mergesSource">The file the merges came from, for errors.</param>
    public BpeVocabulary(IReadOnlyList<string> tokens, IReadOnlyList<BpeMergeLine> mergeLines, string vocabularySource, string mergesSource)
    {
        this.tokens = [.. tokens];
        // Later duplicates win, as in OpenAI's dict(zip(vocab, range(len(vocab)))).
        var ids = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int id = 0; id < tokens.Count; id++)
        {
            // Every token, the special ones and "</w>" included, must spell bytes, or decoding could not undo it.
            int bad = tokens[id].AsSpan().IndexOfAnyExcept(ByteSymbols);
            if (bad >= 0)
                throw new InvalidDataException($"{vocabularySource}: token {id} \"{tokens[id]}\" contains U+{(int)tokens[id][bad]:X4}, which stands for no byte");
            ids[tokens[id]] = id;
        }

        int Require(string token, string what) => ids.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"{vocabularySource}: has no token \"{token}\" ({what})");

        for (int value = 0; value < ByteLevelAlphabet.Size; value++)
        {
            string symbol = ByteLevelAlphabet.SymbolOf((byte)value).ToString();
            byteIds[value] = Require(symbol, $"the symbol of byte 0x{value:X2}");
            wordEndByteIds[value] = Require(symbol + EndOfWord, $"the symbol of byte 0x{value:X2} ending a word");
        }
        StartOfTextId = Require(ClipPreTokenizer.StartOfText, "the start-of-text token");
        EndOfTextId = Require(ClipPreTokenizer.EndOfText, "the end-of-text token");
        merges = BuildMerges(ids, mergeLines, vocabularySource, mergesSource);
        Fingerprint = FingerprintOf(this.tokens, mergeLines);
    }

    /// <summary>SHA-256 of the tokens in id order and the merges in rank order: equal for vocabularies that encode alike.</summary>
    public string Fingerprint { get; }

    public int Count => tokens.Length;

    public int StartOfTextId { get; }

    public int EndOfTextId { get; }

    public IReadOnlyList<string> Tokens => tokens;

    /// <summary>The id of a byte's symbol inside a word, or at its end.</summary>
    public int ByteId(byte value, bool endsWord) => endsWord ? wordEndByteIds[value] : byteIds[value];

    public bool TryGetMerge(int first, int second, out Merge merge) => merges.TryGetValue(PairKey(first, second), out merge);

    public string TokenOf(int id) => (uint)id < (uint)tokens.Length
        ? tokens[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary of {tokens.Length} tokens");

    private static long PairKey(int first, int second) => ((long)first << 32) | (uint)second;

    /// <summary>
    /// Each merge may only join symbols a word can already hold (byte symbols or results of better-ranked merges),
    /// and its result must be a token; anything else means the two files do not belong together or one is damaged.
    /// </summary>
    private Dictionary<long, Merge> BuildMerges(Dictionary<string, int> ids, IReadOnlyList<BpeMergeLine> mergeLines,
        string vocabularySource, string mergesSource)
    {
        var reachable = new bool[tokens.Length];
        foreach (int id in byteIds.Concat(wordEndByteIds))
            reachable[id] = true;

        int Reachable(string symbol, BpeMergeLine line) => ids.TryGetValue(symbol, out int id) && reachable[id]
            ? id
            : throw new InvalidDataException(
                $"{mergesSource} line {line.LineNumber}: \"{symbol}\" is neither a byte symbol nor the result of an earlier merge");

        var merges = new Dictionary<long, Merge>(mergeLines.Count);
        for (int rank = 0; rank < mergeLines.Count; rank++)
        {
            BpeMergeLine line = mergeLines[rank];
            int first = Reachable(line.First, line), second = Reachable(line.Second, line);
            string joined = line.First + line.Second;
            if (!ids.TryGetValue(joined, out int result))
                throw new InvalidDataException(
                    $"{vocabularySource}: has no token \"{joined}\", the result of the merge on {mergesSource} line {line.LineNumber}");
            // A repeated pair keeps its later rank, as in OpenAI's dict(zip(merges, range(len(merges)))).
            merges[PairKey(first, second)] = new Merge(rank, result);
            reachable[result] = true;
        }
        return merges;
    }

    /// <summary>A merge of two adjacent symbols: lower ranks are applied first; the result is one token.</summary>
    public readonly record struct Merge(int Rank, int ResultId);

    private static string FingerprintOf(string[] tokens, IReadOnlyList<BpeMergeLine> mergeLines)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string token in tokens)
            hash.AppendData(Encoding.UTF8.GetBytes(token + "\n"));
        hash.AppendData([0]);
        foreach (BpeMergeLine merge in mergeLines)
            hash.AppendData(Encoding.UTF8.GetBytes($"{merge.First} {merge.Second}\n"));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
