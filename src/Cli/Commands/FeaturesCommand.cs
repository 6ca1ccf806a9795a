using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip features --weights FILE --text STR...`: CLIP text embeddings (L2-normalised), one line (or JSON
/// row) per text. `--ids` takes raw token ids instead of text (for models whose vocabulary is not OpenAI's,
/// e.g. the tiny test CLIP). Images (`--image`, `--dense`) wait for a PNG decoder in the project.
/// </summary>
public static class FeaturesCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        var weightsPath = new Option<string>("--weights") { Description = "A CLIP ViT weight file (.pt, .bin, .safetensors).", Required = true };
        var texts = new Option<string[]>("--text") { Description = "A text to embed (repeatable); tokenized with OpenAI's CLIP BPE.", AllowMultipleArgumentsPerToken = false };
        var ids = new Option<string[]>("--ids") { Description = "Space-separated token ids, SOT to EOT (repeatable)." };
        var command = new Command("features", "Print CLIP text embeddings (unit norm).") { json, weightsPath, texts, ids };
        command.SetAction(parse =>
        {
            using ClipWeights weights = ClipWeights.Load(parse.GetRequiredValue(weightsPath));
            int length = weights.Config.ContextLength;
            var inputs = new List<(string Input, int[] Tokens)>();
            foreach (string phrase in parse.GetValue(texts) ?? [])
                inputs.Add((phrase, ClipTokenizer.Default.EncodeForContext(phrase, length, false)));
            foreach (string sequence in parse.GetValue(ids) ?? [])
                inputs.Add((sequence, ParseIds(sequence, length)));
            if (inputs.Count == 0)
                throw new ArgumentException("give at least one --text or --ids");
            var padded = new int[inputs.Count * length];
            for (int i = 0; i < inputs.Count; i++)
                inputs[i].Tokens.CopyTo(padded, i * length);
            var encoder = new TextTransformer(weights);
            using Tensor features = encoder.Encode(padded);
            int embed = weights.Config.EmbedDim;
            float[] values = features.ToFloatArray();
            var rows = new List<FeatureRow>();
            for (int i = 0; i < inputs.Count; i++)
            {
                float[] row = values.AsSpan(i * embed, embed).ToArray();
                float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(row));
                System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
                rows.Add(new FeatureRow(inputs[i].Input, inputs[i].Tokens, row));
            }
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new FeaturesReport(embed, rows), CliJson.Output.FeaturesReport));
            else
                foreach (FeatureRow row in rows)
                    Console.WriteLine($"{row.Input}\t{string.Join(' ', row.Features.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}");
            return ExitCode.Success;
        });
        return command;
    }

    private static int[] ParseIds(string sequence, int length)
    {
        string[] parts = sequence.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Length > length)
            throw new ArgumentException($"--ids '{sequence}': needs 1 to {length} token ids");
        return [.. parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int id)
            ? id : throw new ArgumentException($"--ids '{sequence}': '{p}' is not a token id"))];
    }
}
