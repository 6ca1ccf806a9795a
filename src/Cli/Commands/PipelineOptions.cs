using System.CommandLine;
using ReClip.Model.Clip;
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

    /// <summary>The image tower in bfloat16 on a GPU (<see cref="ClipWeights.ToDevice"/>), for the commands that run it.</summary>
    public static Option<bool> ImageBFloat16() =>
        new("--image-bf16")
        {
            Description = "With a CUDA device: run the image tower in bfloat16 (weights, GEMMs, attention and activations; float32 sums "
                + "and residual stream). Several times faster on tensor cores; its features lie about 1e-3 from float32's.",
        };

    /// <summary>A class token in place of CLIP's (<see cref="ClipWeights.ReplaceClassEmbedding"/>), for the commands that run the dense image tower.</summary>
    public static Option<string?> ClassToken(string scope) =>
        new("--class-token")
        {
            Description = "Replace CLIP's class token in the image tower with the one in FILE, as ReCLIP++ does (the authors' utils/cls_token.pt, "
                + "spec §2.3): a PyTorch or safetensors file of that one tensor, or a checkpoint holding one named cls_token. " + scope,
        };

    /// <summary>The identity setting of a shard whose image tower ran with a replaced class token (absent with CLIP's own, so older shards still merge).</summary>
    public const string ClassTokenSetting = "class_token";

    /// <summary>The identity setting of a shard whose image tower ran in bfloat16 (absent for float32, so older shards still merge).</summary>
    public const string ImageTowerSetting = "image_tower";

    /// <summary>Shard settings that say the image tower ran in bfloat16 and the float32 GEMMs on TF32 tensor cores, where they did.</summary>
    public static KeyValuePair<string, string>[] PrecisionSettings(bool imageInBFloat16, bool tensorFloat32) =>
    [
        .. imageInBFloat16 ? [KeyValuePair.Create(ImageTowerSetting, "bfloat16")] : Array.Empty<KeyValuePair<string, string>>(),
        .. tensorFloat32 ? [KeyValuePair.Create(Float32GemmsSetting, "tf32")] : Array.Empty<KeyValuePair<string, string>>(),
    ];

    /// <summary>
    /// Whether --image-bf16 was given, refused before any work where the towers run on the CPU or on a GPU without
    /// bfloat16 tensor cores (compute capability below 8.0).
    /// </summary>
    public static bool ImageInBFloat16(ParseResult parse, Option<bool> option, Device device) =>
        OnTensorCores(parse, option, device, "runs the image tower on a GPU", "bfloat16");

    /// <summary>
    /// The float32 GEMMs of <paramref name="what"/> on TF32 tensor cores (<see cref="Float32Gemms"/>), for the commands that
    /// run the towers, the help ending with <paramref name="afterwards"/>; the cached Query bank is built in float32 either way.
    /// </summary>
    public static Option<bool> TensorFloat32(string what, string afterwards = "") =>
        new("--tf32")
        {
            Description = $"With a CUDA device: {what} on TF32 tensor cores, as PyTorch's allow_tf32: float32 sums of operands with 10-bit "
                + $"mantissas (an Ampere or later card's datasheet rates TF32 at several times float32).{afterwards}",
        };

    /// <summary>The identity setting of a shard whose float32 GEMMs ran on TF32 tensor cores (absent for float32, so older shards still merge).</summary>
    public const string Float32GemmsSetting = "float32_gemms";

    /// <summary>Whether --tf32 was given, refused before any work on the CPU or on a GPU without TF32 tensor cores (compute capability below 8.0).</summary>
    public static bool TensorFloat32Requested(ParseResult parse, Option<bool> option, Device device) =>
        OnTensorCores(parse, option, device, "multiplies on a GPU's tensor cores", "TF32");

    /// <summary>Whether the tensor-core <paramref name="option"/> was given; refused on the CPU or a card older than Ampere, whose tensor cores lack <paramref name="format"/>.</summary>
    private static bool OnTensorCores(ParseResult parse, Option<bool> option, Device device, string what, string format)
    {
        if (!parse.GetValue(option))
            return false;
        if (device.IsCpu)
            throw new ArgumentException($"{option.Name} {what}; give --device cuda (the CPU computes in float32)");
        CudaDeviceInfo card = CudaDriver.Describe(device.Index);
        if (card.ComputeMajor < 8)
            throw new ArgumentException($"{option.Name} needs {format} tensor cores (compute capability 8.0 or later); {device} is a {card.Name} of compute {card.ComputeCapability}");
        return true;
    }

    public static SegmentationDataset OpenDataset(ParseResult parse, Option<string> dataset, Option<string> root, Option<string> split) =>
        SegmentationDataset.Open(DatasetPreset.Named(parse.GetRequiredValue(dataset)), parse.GetRequiredValue(root), parse.GetValue(split)!);

    /// <summary>
    /// The device the frozen CLIP towers run on; the ReCLIP++ head, the metrics and the data stay on the CPU and hand
    /// the towers their inputs across. "auto" is cuda:0 where the driver, NVRTC and cuBLAS all load and NVRTC can build
    /// for the device (the towers match the CPU there to 1e-6; docs/PERFORMANCE.md), else the CPU. A CUDA device asked for by
    /// name that cannot be used is refused with the reason.
    /// </summary>
    public static Device ResolveDevice(string text)
    {
        if (string.Equals(text.Trim(), "auto", StringComparison.OrdinalIgnoreCase))
            return CudaIsUsable() ? Runtime.Tensors.Device.Cuda(0) : Runtime.Tensors.Device.Cpu;
        Device device = Runtime.Tensors.Device.Parse(text);
        if (device.IsCpu)
            return device;
        // No usable CUDA driver is a device failure (exit 2, as selfcheck, features and bench report it); a device index
        // beyond the cards present stays a bad value (below).
        if (!CudaDriver.IsAvailable)
            throw new CudaUnavailableException($"--device {text}: {CudaDriver.UnavailableReason ?? "no CUDA driver"}; use --device cpu");
        int count = CudaDriver.DeviceCount();
        if (device.Index >= count)
            throw new ArgumentException($"--device {text}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}");
        return device;
    }

    /// <summary>The libraries load, a device exists, and NVRTC can build for it (a card older than its oldest target cannot load our kernels).</summary>
    private static bool CudaIsUsable()
    {
        if (!CudaDriver.IsAvailable || !Nvrtc.IsAvailable || !Cublas.IsAvailable || CudaDriver.DeviceCount() == 0)
            return false;
        CudaDeviceInfo card = CudaDriver.Describe(0);
        return card.ComputeMajor * 10 + card.ComputeMinor >= Nvrtc.SupportedArchitectures().Min();
    }

    /// <summary>
    /// The CLIP weights of <paramref name="path"/> on <paramref name="device"/>, where the towers built on them compute;
    /// with <paramref name="imageInBFloat16"/> (a GPU only) the image tower's linears are stored in bfloat16, and with
    /// <paramref name="classTokenPath"/> the image tower's class token is the one in that file (<see cref="ClassTokenFile"/>).
    /// </summary>
    public static ClipWeights LoadWeights(string path, Device device, bool imageInBFloat16 = false, string? classTokenPath = null)
    {
        ClipWeights host = ClipWeights.Load(path);
        try
        {
            if (classTokenPath is not null)
                host.ReplaceClassEmbedding(ClassTokenFile.Read(classTokenPath, host.Config.VisionWidth));
            if (device.IsCpu)
                return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
        using (host)
            return host.ToDevice(device, visionLinearsInBFloat16: imageInBFloat16);
    }
}
