using System.Text.Json;
using ReClip.Runtime.IO;

namespace ReClip.Model.Clip;

/// <summary>
/// Hugging Face's tokenizer files of a CLIP model: <c>vocab.json</c> (token → id) and <c>merges.txt</c> (a
/// "#version" line, then merges best first), each plain or gzip-compressed. For OpenAI's CLIP they hold the same
/// vocabulary, in the same order, as <c>bpe_simple_vocab_16e6.txt.gz</c>.
/// </summary>
internal static class HuggingFaceVocabularyFiles
{
    private const string VocabularyName = "vocab.json";
    private const string MergesName = "merges.txt";

    /// <summary>The two files in a model folder, each under its plain or its <c>.gz</c> name.</summary>
    public static (string Vocabulary, string Merges) Find(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: no such folder");
        return (FindOne(directory, VocabularyName), FindOne(directory, MergesName));
    }

    public static BpeVocabulary Read(string vocabularyPath, string mergesPath)
    {
        string[] tokens = ReadTokens(vocabularyPath);
        List<BpeMergeLine> merges = BpeMergeLine.ParseAll(VocabularyFileContent.ReadText(mergesPath), mergesPath);
        int expected = tokens.Length - BpeVocabulary.TokensBesideMerges;
        if (merges.Count != expected)
            throw new InvalidDataException(
                $"{mergesPath}: has {merges.Count} merges, but the {tokens.Length} tokens of {vocabularyPath} need {expected} (one per token beside the {BpeVocabulary.TokensBesideMerges} byte and special tokens)");
        return new BpeVocabulary(tokens, merges, vocabularyPath, mergesPath);
    }

    private static string FindOne(string directory, string name)
    {
        string plain = Path.Combine(directory, name);
        string compressed = plain + ".gz";
        return File.Exists(plain) ? plain
            : File.Exists(compressed) ? compressed
            : throw new FileNotFoundException($"{directory}: has neither {name} nor {name}.gz", plain);
    }

    /// <summary>The tokens by id; the ids must number them 0, 1, … without gaps or repeats.</summary>
    private static string[] ReadTokens(string path)
    {
        byte[] content = VocabularyFileContent.ReadBytes(path);
        try
        {
            using JsonDocument document = JsonDocument.Parse(content);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: expected a JSON object mapping each token to its id, found {root.ValueKind}");
            var tokens = new string[root.GetPropertyCount()];
            foreach (JsonProperty entry in root.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0 || id >= tokens.Length)
                    throw new InvalidDataException($"{path}: token \"{entry.Name}\" has the id {entry.Value.GetRawText()}; ids must be 0 to {tokens.Length - 1}");
                if (tokens[id] is { } other)
                    throw new InvalidDataException($"{path}: tokens \"{other}\" and \"{entry.Name}\" have the same id {id}");
                tokens[id] = entry.Name;
            }
            return tokens;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({JsonErrorText.Of(e)})", e);
        }
    }
}
