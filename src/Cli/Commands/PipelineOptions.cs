using System.CommandLine;
using ReClip.Model.Data.Datasets;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>The options shared by the commands that run the method: CLIP weights, the dataset and the device.</summary>
public static class PipelineOptions
{
    public static Option<string> Weights() =>
        new("--weights") { Description = "CLIP ViT weights (.pt, .bin or .safetensors; OpenAI, open_clip or Hugging Face names).", Required = true };

    public static Option<string> Dataset() =>
        new("--dataset") { Description = "Dataset preset: voc, context, ade, cityscapes, stuff or folder (spec §3.1 settings).", Required = true };

    public static Option<string> Root() =>
        new("--root") { Description = "The dataset's root folder in its standard layout.", Required = true };

    public static Option<string> Split(string defaultSplit) =>
        new("--split") { Description = "Split: train or val (ignored by the folder layout).", DefaultValueFactory = _ => defaultSplit };

    public static Option<string> Device() =>
        new("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };

    public static SegmentationDataset OpenDataset(ParseResult parse, Option<string> dataset, Option<string> root, Option<string> split) =>
        SegmentationDataset.Open(DatasetPreset.Named(parse.GetRequiredValue(dataset)), parse.GetRequiredValue(root), parse.GetValue(split)!);

    /// <summary>
    /// The device the method runs on. The encoders and the head run on the CPU backend; their CUDA path is not
    /// assembled yet, so "auto" means the CPU and an explicit CUDA device is refused with the reason rather than
    /// silently run elsewhere.
    /// </summary>
    public static Device ResolveDevice(string text)
    {
        if (string.Equals(text.Trim(), "auto", StringComparison.OrdinalIgnoreCase))
            return Runtime.Tensors.Device.Cpu;
        Device device = Runtime.Tensors.Device.Parse(text);
        if (device.IsCpu)
            return device;
        string reason = CudaDriver.IsAvailable ? "the encoders and the ReCLIP++ head have no CUDA path yet" : CudaDriver.UnavailableReason ?? "no CUDA driver";
        throw new ArgumentException($"--device {text}: {reason}; use --device cpu");
    }
}
