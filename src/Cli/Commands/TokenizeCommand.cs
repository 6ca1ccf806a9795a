using System.CommandLine;
using System.Text.Json;
using ReClip.Model.Clip;

namespace ReClip.Cli.Commands;

/// <summary>`reclip tokenize`: the CLIP token ids of each text, SOT to EOT, as the text encoder reads them (padding left out).</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        var contextLength = new Option<int>("--context-length")
        {
            Description = "Tokens the text encoder takes, SOT and EOT included.",
            DefaultValueFactory = _ => ClipTokenizer.DefaultContextLength,
        };
        contextLength.Validators.Add(result =>
        {
            // A token that is not an int already has System.CommandLine's own error; reading the value would throw.
            if (result.Tokens is [{ } token] && int.TryParse(token.Value, out int length) && length < 1)
                result.AddError($"--context-length must be at least 1, not {length}");
        });
        var truncate = new Option<bool>("--truncate") { Description = "Cut a text that does not fit and end it with EOT, instead of failing." };
        var vocabulary = new Option<string?>("--vocab") { Description = "OpenAI's bpe_simple_vocab_16e6.txt.gz (default: the copy built into reclip)." };
        var huggingFace = new Option<string?>("--hf-vocab") { Description = "A folder with Hugging Face's vocab.json and merges.txt (plain or .gz)." };
        var texts = new Argument<string[]>("TEXT") { Arity = ArgumentArity.OneOrMore, Description = "The texts, each one argument." };
        var command = new Command("tokenize", "Print the CLIP BPE token ids of each text, one line per text.")
        {
            json, contextLength, truncate, vocabulary, huggingFace, texts,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(vocabulary) is not null && result.GetValue(huggingFace) is not null)
                result.AddError("--vocab and --hf-vocab name two vocabularies; give one");
        });
        command.SetAction(parse =>
        {
            ClipTokenizer tokenizer = parse.GetValue(vocabulary) is { } path ? ClipTokenizer.FromOpenAiVocabulary(path)
                : parse.GetValue(huggingFace) is { } folder ? ClipTokenizer.FromHuggingFaceDirectory(folder)
                : ClipTokenizer.Default;
            int length = parse.GetValue(contextLength);
            bool cut = parse.GetValue(truncate);
            int[][] tokens = parse.GetRequiredValue(texts).Select(text => tokenizer.EncodeForContext(text, length, cut)).ToArray();
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new TokenizeReport(tokens), CliJson.Output.TokenizeReport));
            else
                foreach (int[] ids in tokens)
                    Console.WriteLine(string.Join(' ', ids));
            return ExitCode.Success;
        });
        return command;
    }
}
