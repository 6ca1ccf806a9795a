using System.CommandLine;
using SkiaSharp;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Runtime.IO;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip segment`: one image segmented into any vocabulary. Without --checkpoint, the MaskCLIP baseline on the given
/// class names; with one, the trained ReCLIP++ head, whose classes are fixed by its training. Writes a colour mask and
/// optionally an overlay with a legend.
/// </summary>
public static class SegmentCommand
{
    /// <summary>The short side images are resized to by default: Context's and Cityscapes' test scale (spec §3.1).</summary>
    public const int DefaultShortSide = 448;

    public static Command Create()
    {
        Option<string> weights = PipelineOptions.Weights(), device = PipelineOptions.Device();
        Option<bool> imageBFloat16 = PipelineOptions.ImageBFloat16();
        Option<bool> tensorFloat32 = PipelineOptions.TensorFloat32("the float32 GEMMs of the towers and the head");
        var image = new Option<string>("--image") { Description = "The image (PNG or JPEG), turned upright by its EXIF orientation as OpenCV reads it.", Required = true };
        var classes = new Option<string?>("--classes") { Description = "Comma-separated class names, e.g. \"sky,horse,grass\" (with --checkpoint: optional, must be its classes)." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A trained ReCLIP++ head; without it the MaskCLIP baseline runs." };
        var output = new Option<string>("--out") { Description = "Where to write the colour mask (PNG).", Required = true };
        Option<string?> classToken = PipelineOptions.ClassToken("Without --checkpoint only: a head runs with the class token it was trained with.");
        var overlay = new Option<string?>("--overlay") { Description = "Where to write the image blended with the mask, with a legend (PNG)." };
        var shortSide = new Option<int>("--short-side") { Description = "The short side the image is resized to before CLIP (long side at most 2048).", DefaultValueFactory = _ => DefaultShortSide };
        shortSide.Validators.Add(result =>
        {
            if (result.Tokens is [{ } token] && int.TryParse(token.Value, out int side) && side < 1)
                result.AddError($"--short-side must be at least 1, not {side}");
        });
        Option<float?> pd = DenoisingOptions.Threshold();
        pd.Description = "Prompt-denoising threshold in (0, 1] (default: off).";
        var command = new Command("segment", "Segment one image into the given classes and write a colour mask and an overlay.")
        {
            weights, image, classes, checkpoint, classToken, output, overlay, shortSide, pd, device, imageBFloat16, tensorFloat32,
        };
        var vocabulary = new VocabularyOptions();
        vocabulary.AddTo(command);
        DenoisingOptions.Validate(command, pd, null);
        command.SetAction(parse =>
        {
            Device target = PipelineOptions.ResolveDevice(parse.GetValue(device)!);
            bool imageInBFloat16 = PipelineOptions.ImageInBFloat16(parse, imageBFloat16, target);
            bool onTensorFloat32 = PipelineOptions.TensorFloat32Requested(parse, tensorFloat32, target);
            string? checkpointPath = parse.GetValue(checkpoint);
            IReadOnlyList<string>? names = parse.GetValue(classes) is { } list ? ParseClasses(list) : null;
            if (names is null && checkpointPath is null)
                throw new ArgumentException("give --classes (the MaskCLIP baseline segments any vocabulary) or --checkpoint");
            string maskPath = parse.GetRequiredValue(output);
            string? overlayPath = parse.GetValue(overlay);
            OutputPath.CheckFile(maskPath);
            RequirePng("--out", maskPath);
            if (overlayPath is not null)
            {
                OutputPath.CheckFile(overlayPath);
                RequirePng("--overlay", overlayPath);
                if (Path.GetFullPath(overlayPath) == Path.GetFullPath(maskPath))
                    throw new ArgumentException($"--overlay and --out are the same file ({Path.GetFullPath(maskPath)})");
            }
            RgbImage picture = PngFiles.ReadRgbOriented(parse.GetRequiredValue(image));
            int side = parse.GetValue(shortSide);
            DatasetPreset preset = DatasetPreset.Folder with { TestScaleShort = side, CropSize = side };
            string weightsPath = parse.GetRequiredValue(weights);
            using InferenceModel model = InferenceModel.Load(weightsPath, target, imageInBFloat16, names, checkpointPath, vocabulary.Tokenizer(parse),
                parse.GetValue(classToken));
            // After the Query bank, which is cached in float32.
            using Float32Gemms.Scope gemms = Float32Gemms.TensorFloat32(onTensorFloat32);
            using Segmenter segmenter = model.Segmenter(preset, DenoisingOptions.Resolve(parse, pd, null, null), slide: false);
            using Tensor prediction = segmenter.Segment(picture);
            // Both files are written in full before either is put in place: a failure while writing leaves neither.
            using (SKBitmap mask = PngFiles.ToBitmap(MaskPicture.Colourize(prediction)))
            using (StagedFile stagedMask = PngFiles.Stage(maskPath, mask))
            {
                using StagedFile? stagedOverlay = overlayPath is null ? null : StageOverlay(overlayPath, picture, prediction, model.Classes);
                stagedMask.Commit();
                stagedOverlay?.Commit();
            }
            foreach (int c in MaskPicture.Present(prediction, model.Classes.Count))
                Console.WriteLine($"{model.Classes[c]}\t#{Hex(MaskPicture.Colour(c))}");
            return ExitCode.Success;
        });
        return command;
    }

    /// <summary>Both pictures are PNG (a mask must keep its exact colours): a name that says otherwise would mislead whoever opens it.</summary>
    private static void RequirePng(string option, string path)
    {
        if (!Path.GetExtension(path).Equals(".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{option} {path}: the picture is written as PNG; give a name ending in .png");
    }

    private static StagedFile StageOverlay(string path, RgbImage picture, Tensor prediction, IReadOnlyList<string> classes)
    {
        using SKBitmap bitmap = MaskPicture.Overlay(picture, prediction, classes);
        return PngFiles.Stage(path, bitmap);
    }

    /// <summary>
    /// Comma-separated names, each trimmed; an empty name or a repeated one is an error, and names that differ only in
    /// case repeat (CLIP's tokenizer reads text in lower case, so both would get the same prompts).
    /// </summary>
    public static IReadOnlyList<string> ParseClasses(string list)
    {
        string[] names = [.. list.Split(',').Select(n => n.Trim())];
        if (Array.FindIndex(names, n => n.Length == 0) is int empty and >= 0)
            throw new ArgumentException($"--classes \"{list}\": name {empty + 1} is empty");
        if (RepeatedClassName.Find(names) is (int first, _))
            throw new ArgumentException($"--classes \"{list}\": \"{names[first]}\" appears more than once (names are compared in lower case, as CLIP reads them)");
        return names;
    }

    private static string Hex((byte R, byte G, byte B) colour) => $"{colour.R:x2}{colour.G:x2}{colour.B:x2}";
}
