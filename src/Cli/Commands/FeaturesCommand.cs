using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip features --weights FILE [--image PNG]... [--text STR]... [--ids IDS]... [--dense] [--device D] [--json]`: CLIP's
/// pooled image embeddings (images at their own size: pixels/255 and CLIP's mean/std, no resizing) and text
/// embeddings after the projection, not normalised; with --dense the MaskCLIP dense map of each image.
/// `--ids` takes raw token ids instead of text, for models whose vocabulary is not OpenAI's. `--device cuda` runs both
/// towers on a GPU, so their output can be held against the CPU's.
/// </summary>
public static class FeaturesCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        var weightsPath = new Option<string>("--weights") { Description = "A CLIP ViT weight file (.pt, .bin, .safetensors).", Required = true };
        var images = new Option<string[]>("--image") { Description = "A PNG or JPEG image (repeatable), used at its own size, turned upright by its EXIF orientation." };
        var texts = new Option<string[]>("--text") { Description = "A text to embed (repeatable); tokenized with OpenAI's CLIP BPE." };
        var ids = new Option<string[]>("--ids") { Description = "Space-separated token ids, SOT to EOT (repeatable)." };
        var dense = new Option<bool>("--dense") { Description = "Also print the MaskCLIP dense map of each image." };
        var device = new Option<string>("--device") { Description = "Where the towers run: cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var command = new Command("features", "Print CLIP image and text embeddings, and the MaskCLIP dense map.") { json, weightsPath, images, texts, ids, dense, device };
        command.SetAction(parse =>
        {
            string[] imagePaths = parse.GetValue(images) ?? [];
            string weightsFile = parse.GetRequiredValue(weightsPath);
            using ClipWeights weights = ClipWeights.Load(weightsFile);
            var tokens = new List<(string Input, int[] Ids)>();
            string[] phrases = parse.GetValue(texts) ?? [];
            if (phrases.Length > 0)
                ClipTokenizer.Default.RequireFits(weights.Config, weightsFile, "give the texts' token ids with --ids");
            foreach (string phrase in phrases)
                tokens.Add((phrase, ClipTokenizer.Default.EncodeForContext(phrase, weights.Config.ContextLength, false)));
            foreach (string sequence in parse.GetValue(ids) ?? [])
                tokens.Add((sequence, ParseIds(sequence, weights.Config)));
            if (tokens.Count == 0 && imagePaths.Length == 0)
                throw new ArgumentException("give at least one --image, --text or --ids");

            var imageRows = new List<float[]>();
            List<float[][][]>? denseMaps = parse.GetValue(dense) ? [] : null;
            Device target = Device.Parse(parse.GetValue(device)!);
            using ClipWeights? deviceWeights = target.IsCpu ? null : weights.ToDevice(target);
            var vision = new VisionTransformer(deviceWeights ?? weights);
            foreach (string path in imagePaths)
            {
                using Tensor picture = ClipImage.Normalize(PngFiles.ReadRgbOriented(path));
                using Tensor input = picture.ToDevice(target);
                using (Tensor pooled = vision.Encode(input))
                    imageRows.Add(pooled.ToFloatArray());
                if (denseMaps is null) continue;
                using DenseFeatures map = vision.EncodeDense(input);
                denseMaps.Add(ChannelsFirst(map));
            }
            List<float[]> textRows = tokens.Count == 0 ? [] : EncodeTexts(deviceWeights ?? weights, tokens.ConvertAll(t => t.Ids));

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new FeaturesReport(imageRows, textRows, denseMaps), CliJson.Output.FeaturesReport));
                return ExitCode.Success;
            }
            for (int i = 0; i < imagePaths.Length; i++)
                Console.WriteLine($"image {imagePaths[i]}\t{Format(imageRows[i])}");
            for (int i = 0; i < tokens.Count; i++)
                Console.WriteLine($"text {tokens[i].Input}\t{Format(textRows[i])}");
            for (int i = 0; denseMaps is not null && i < denseMaps.Count; i++)
                Console.WriteLine($"dense {imagePaths[i]}\t{denseMaps[i].Length} channels × {denseMaps[i][0].Length} × {denseMaps[i][0][0].Length} patches");
            return ExitCode.Success;
        });
        return command;
    }

    private static List<float[]> EncodeTexts(ClipWeights weights, List<int[]> sequences)
    {
        int length = weights.Config.ContextLength, embed = weights.Config.EmbedDim;
        var padded = new int[sequences.Count * length];
        for (int i = 0; i < sequences.Count; i++)
            sequences[i].CopyTo(padded, i * length);
        using Tensor features = new TextTransformer(weights).Encode(padded);
        float[] values = features.ToFloatArray();
        return [.. Enumerable.Range(0, sequences.Count).Select(i => values.AsSpan(i * embed, embed).ToArray())];
    }

    /// <summary>The dense map [h·w, E] of one image as [channel][y][x].</summary>
    private static float[][][] ChannelsFirst(DenseFeatures map)
    {
        float[] values = map.Features.ToFloatArray();
        int embed = values.Length / (map.Rows * map.Columns);
        var result = new float[embed][][];
        for (int c = 0; c < embed; c++)
        {
            result[c] = new float[map.Rows][];
            for (int y = 0; y < map.Rows; y++)
            {
                result[c][y] = new float[map.Columns];
                for (int x = 0; x < map.Columns; x++)
                    result[c][y][x] = values[(y * map.Columns + x) * embed + c];
            }
        }
        return result;
    }

    private static string Format(float[] row) => string.Join(' ', row.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));

    private static int[] ParseIds(string sequence, ClipConfig config)
    {
        string[] parts = sequence.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Length > config.ContextLength)
            throw new ArgumentException($"--ids '{sequence}': needs 1 to {config.ContextLength} token ids");
        return [.. parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && id < config.VocabularySize
            ? id : throw new ArgumentException($"--ids '{sequence}': '{p}' is not a token id of this text tower (0..{config.VocabularySize - 1})"))];
    }
}
