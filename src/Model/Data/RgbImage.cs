namespace ReClip.Model.Data;

/// <summary>An 8-bit RGB image, row-major, 3 bytes per pixel, as datasets store them.</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Width = width;
        Height = height;
        Pixels = new byte[width * height * 3];
    }

    public int Width { get; }

    public int Height { get; }

    public byte[] Pixels { get; }

    public void Set(int x, int y, byte r, byte g, byte b)
    {
        int i = (y * Width + x) * 3;
        Pixels[i] = r;
        Pixels[i + 1] = g;
        Pixels[i + 2] = b;
    }

    /// <summary>The <paramref name="width"/>×<paramref name="height"/> region at (<paramref name="left"/>, <paramref name="top"/>), as PIL's crop inside the image.</summary>
    public RgbImage Crop(int left, int top, int width, int height)
    {
        if (left < 0 || top < 0 || width <= 0 || height <= 0 || left + width > Width || top + height > Height)
            throw new ArgumentOutOfRangeException(nameof(left), $"crop {width}x{height} at ({left}, {top}) is not inside a {Width}x{Height} image");
        var crop = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
            Pixels.AsSpan(((top + y) * Width + left) * 3, width * 3).CopyTo(crop.Pixels.AsSpan(y * width * 3));
        return crop;
    }
}

/// <summary>A label map: one class index per pixel (255 = ignore), row-major.</summary>
public sealed class LabelMap
{
    public const byte Ignore = 255;

    public LabelMap(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Width = width;
        Height = height;
        Labels = new byte[width * height];
    }

    public int Width { get; }

    public int Height { get; }

    public byte[] Labels { get; }

    public byte this[int x, int y]
    {
        get => Labels[y * Width + x];
        set => Labels[y * Width + x] = value;
    }
}
