using System.CommandLine;
using ReClip.Model.Clip;
using ReClip.Runtime.IO;

namespace ReClip.Cli.Commands;

/// <summary>
/// The shared choice of BPE vocabulary: OpenAI's file, a Hugging Face folder, or (neither given) the copy of
/// OpenAI's vocabulary built into reclip. A model trained with its own vocabulary needs one of the two options.
/// </summary>
public sealed class VocabularyOptions
{
    public Option<string?> OpenAi { get; } = new("--vocab") { Description = "OpenAI's bpe_simple_vocab_16e6.txt.gz (default: the copy built into reclip)." };

    public Option<string?> HuggingFace { get; } = new("--hf-vocab") { Description = "A folder with Hugging Face's vocab.json and merges.txt (plain or .gz)." };

    /// <summary>Adds both options to the command, and the check that at most one is given.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(OpenAi);
        command.Options.Add(HuggingFace);
        command.Validators.Add(result =>
        {
            if (result.GetValue(OpenAi) is not null && result.GetValue(HuggingFace) is not null)
                result.AddError("--vocab and --hf-vocab name two vocabularies; give one");
        });
    }

    public ClipTokenizer Tokenizer(ParseResult parse) =>
        parse.GetValue(OpenAi) is { } path ? ClipTokenizer.FromOpenAiVocabulary(path)
        : parse.GetValue(HuggingFace) is { } folder ? ClipTokenizer.FromHuggingFaceDirectory(folder)
        : ClipTokenizer.Default;

    /// <summary>Which vocabulary the options name, by content: the shards of one run must tokenise the class prompts alike.</summary>
    public string Identity(ParseResult parse)
    {
        if (parse.GetValue(OpenAi) is { } path)
            return $"--vocab sha256 {FileDigest.Sha256(path)}";
        if (parse.GetValue(HuggingFace) is { } folder)
        {
            (string vocabulary, string merges) = ClipTokenizer.HuggingFaceFiles(folder);
            return $"--hf-vocab sha256 {FileDigest.Sha256(vocabulary)} {FileDigest.Sha256(merges)}";
        }
        return "built-in OpenAI BPE";
    }

    /// <summary>
    /// The tokenizer for <paramref name="weights"/>' text tower: its vocabulary must have as many tokens as the
    /// tower's embedding table, else the ids would index the wrong rows (or none).
    /// </summary>
    public ClipTokenizer TokenizerFor(ParseResult parse, ClipWeights weights, string weightsPath)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ClipTokenizer tokenizer = Tokenizer(parse);
        tokenizer.RequireFits(weights.Config, weightsPath);
        return tokenizer;
    }
}
