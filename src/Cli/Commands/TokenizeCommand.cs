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
        var vocabulary = new VocabularyOptions();
        var texts = new Argument<string[]>("TEXT") { Arity = ArgumentArity.OneOrMore, Description = "The texts, each one argument." };
        var command = new Command("tokenize", "Print the CLIP BPE token ids of each text, one line per text.")
        {
            json, contextLength, truncate, texts,
        };
        vocabulary.AddTo(command);
        command.SetAction(parse =>
        {
            ClipTokenizer tokenizer = vocabulary.Tokenizer(parse);
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
