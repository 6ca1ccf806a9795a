using SkiaSharp;

namespace ReClip.Model.Data;

/// <summary>
/// The eight EXIF orientations (tag 0x0112): how a stored picture is turned or mirrored to be seen upright. Cameras
/// store the sensor's rows and record the orientation instead of rotating the pixels.
/// </summary>
public static class ExifOrientation
{
    /// <summary>The picture as seen: a new image, or <paramref name="stored"/> itself when the orientation is the identity.</summary>
    public static RgbImage Apply(RgbImage stored, SKEncodedOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (origin == SKEncodedOrigin.TopLeft)
            return stored;
        int width = stored.Width, height = stored.Height;
        // Orientations 5 to 8 swap the sides: the seen picture is as wide as the stored one is high.
        bool swapped = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var seen = swapped ? new RgbImage(height, width) : new RgbImage(width, height);
        for (int y = 0; y < seen.Height; y++)
            for (int x = 0; x < seen.Width; x++)
            {
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (width - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, height - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, height - 1 - x),
                    SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),
                    SKEncodedOrigin.LeftBottom => (width - 1 - y, x),
                    _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, "not an EXIF orientation"),
                };
                stored.Pixels.AsSpan((sy * width + sx) * 3, 3).CopyTo(seen.Pixels.AsSpan((y * seen.Width + x) * 3, 3));
            }
        return seen;
    }
}
