using ReClip.Model.Data;
using SkiaSharp;

namespace ReClip.Tests.Model.Data;

/// <summary>Writes tiny images and label files into a temporary dataset folder, in the formats the real datasets use.</summary>
internal sealed class DatasetFolders : IDisposable
{
    public DatasetFolders() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"reclip-datasets-{Guid.NewGuid():N}");

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public void Text(string relative, params string[] lines)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(relative))!);
        File.WriteAllText(PathOf(relative), string.Join('\n', lines) + "\n");
    }

    public void Jpeg(string relative, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(200, 100, 50));
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(relative))!);
        File.WriteAllBytes(PathOf(relative), data.ToArray());
    }

    public void RgbPng(string relative, int width, int height) => PngFiles.WriteRgb(PathOf(relative), new RgbImage(width, height));

    /// <summary>A palette PNG (colour type 3) like VOC's SegmentationClass.</summary>
    public void PaletteLabels(string relative, byte[,] values)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(relative))!);
        File.WriteAllBytes(PathOf(relative), TestPng.Encode(values, 8, 3, y => y % 5));
    }

    /// <summary>An 8-bit grayscale PNG, as ADE20K, Cityscapes' labelTrainIds and the mmseg-converted sets store labels.</summary>
    public void GrayLabels(string relative, byte[,] values)
    {
        var labels = new LabelMap(values.GetLength(1), values.GetLength(0));
        for (int y = 0; y < labels.Height; y++)
            for (int x = 0; x < labels.Width; x++)
                labels[x, y] = values[y, x];
        PngFiles.WriteLabels(PathOf(relative), labels);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
