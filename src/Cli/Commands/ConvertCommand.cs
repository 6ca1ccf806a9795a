using System.CommandLine;
using ReClip.Model.Clip;
using ReClip.Runtime.Weights;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip convert IN OUT.safetensors`: any CLIP weight file we read (OpenAI TorchScript .pt, open_clip,
/// Hugging Face safetensors) rewritten in our layout — OpenAI names, f32, q/k/v packed — as safetensors,
/// so later runs memory-map it instead of unpickling and converting.
/// </summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "A CLIP ViT weight file (.pt, .bin, .safetensors)." };
        var output = new Argument<string>("OUT") { Description = "The safetensors file to write." };
        var command = new Command("convert", "Rewrite CLIP weights in ReCLIP#'s layout (OpenAI names, f32) as safetensors.") { input, output };
        command.SetAction(parse =>
        {
            string source = parse.GetRequiredValue(input), target = parse.GetRequiredValue(output);
            using ClipWeights weights = ClipWeights.Load(source);
            var metadata = new Dictionary<string, string>
            {
                ["source"] = Path.GetFileName(source),
                ["source_layout"] = weights.Layout.ToString(),
            };
            SafetensorsWriter.Write(target, weights.Tensors, metadata);
            ClipConfig c = weights.Config;
            Console.WriteLine($"{target}: {weights.Tensors.Count} tensors from {weights.Layout} layout; vision {c.VisionWidth}×{c.VisionLayers} patch {c.PatchSize} grid {c.VisionGrid}, " +
                $"text {c.TextWidth}×{c.TextLayers} context {c.ContextLength} vocabulary {c.VocabularySize}, embedding {c.EmbedDim}");
            return ExitCode.Success;
        });
        return command;
    }
}
