using System.Collections.Concurrent;
using System.Text;

namespace ReClip.Model.Clip;

/// <summary>
/// Encodes one word (one piece of the pre-tokenizer) into token ids: its UTF-8 bytes become byte symbols, the last
/// one marked as ending the word, and the best-ranked adjacent pair is merged, everywhere it occurs, until no pair
/// has a merge. Results are cached per word, as OpenAI does; prompts repeat the same few hundred words.
/// </summary>
internal sealed class BytePairEncoder
{
    /// <summary>Bounds the memory a long-running process spends on the cache; beyond it words are merged each time.</summary>
    private const int CacheCapacity = 1 << 17;

    /// <summary>Longer words are merged in heap buffers rather than on the stack.</summary>
    private const int StackBytes = 256;

    private readonly BpeVocabulary vocabulary;
    private readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> cacheBySpan;
    private int cachedWords;

    public BytePairEncoder(BpeVocabulary vocabulary)
    {
        this.vocabulary = vocabulary;
        cacheBySpan = cache.GetAlternateLookup<ReadOnlySpan<char>>();
        // The special tokens reach the encoder as whole words (the pre-tokenizer keeps them together) and map to
        // their own ids instead of being spelled out in bytes.
        cache[ClipPreTokenizer.StartOfText] = [vocabulary.StartOfTextId];
        cache[ClipPreTokenizer.EndOfText] = [vocabulary.EndOfTextId];
    }

    public void AppendWord(ReadOnlySpan<char> word, List<int> ids)
    {
        if (!cacheBySpan.TryGetValue(word, out int[]? merged))
        {
            merged = Merge(word);
            if (Interlocked.Increment(ref cachedWords) <= CacheCapacity)
                cacheBySpan.TryAdd(word, merged);
        }
        ids.AddRange(merged);
    }

    private int[] Merge(ReadOnlySpan<char> word)
    {
        int length = Encoding.UTF8.GetByteCount(word);
        Span<byte> bytes = length <= StackBytes ? stackalloc byte[StackBytes] : new byte[length];
        Span<int> symbols = length <= StackBytes ? stackalloc int[StackBytes] : new int[length];
        Encoding.UTF8.GetBytes(word, bytes);
        for (int i = 0; i < length; i++)
            symbols[i] = vocabulary.ByteId(bytes[i], endsWord: i == length - 1);

        while (length > 1 && TryFindBestMerge(symbols[..length], out int first, out int second, out int result))
            length = ApplyMerge(symbols[..length], first, second, result);
        return symbols[..length].ToArray();
    }

    private bool TryFindBestMerge(ReadOnlySpan<int> symbols, out int first, out int second, out int result)
    {
        int bestRank = int.MaxValue;
        first = second = result = -1;
        for (int i = 0; i + 1 < symbols.Length; i++)
        {
            if (vocabulary.TryGetMerge(symbols[i], symbols[i + 1], out BpeVocabulary.Merge merge) && merge.Rank < bestRank)
            {
                bestRank = merge.Rank;
                (first, second, result) = (symbols[i], symbols[i + 1], merge.ResultId);
            }
        }
        return result >= 0;
    }

    /// <summary>Replaces every occurrence of the pair, scanning left to right (so "a a a" becomes "aa a"); returns the new length.</summary>
    private static int ApplyMerge(Span<int> symbols, int first, int second, int result)
    {
        int write = 0;
        for (int read = 0; read < symbols.Length; write++)
        {
            if (read + 1 < symbols.Length && symbols[read] == first && symbols[read + 1] == second)
            {
                symbols[write] = result;
                read += 2;
            }
            else
            {
                symbols[write] = symbols[read++];
            }
        }
        return write;
    }
}
