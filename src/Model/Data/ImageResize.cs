namespace ReClip.Model.Data;

/// <summary>
/// The resizes of the authors' pipeline, written after OpenCV's <c>cv2.resize</c>: bilinear for images
/// (<c>INTER_LINEAR</c>, half-pixel centres, no antialiasing) and nearest for label maps (<c>INTER_NEAREST</c>), and
/// mmseg's keep-ratio target size (spec §1.3 step 2, §1.4).
/// </summary>
public static class ImageResize
{
    /// <summary>
    /// mmseg's keep-ratio rule: factor <c>f = min(max(L,S)/max(H,W), min(L,S)/min(H,W))</c>, size
    /// <c>(int(W·f+0.5), int(H·f+0.5))</c> (at least 1 pixel).
    /// </summary>
    public static (int Width, int Height) KeepRatioSize(int width, int height, int scaleLong, int scaleShort)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        double f = Math.Min((double)Math.Max(scaleLong, scaleShort) / Math.Max(width, height), (double)Math.Min(scaleLong, scaleShort) / Math.Min(width, height));
        return (Math.Max(1, (int)(width * f + 0.5)), Math.Max(1, (int)(height * f + 0.5)));
    }

    /// <summary>
    /// Bilinear resize with OpenCV's half-pixel mapping <c>sx = (dx + 0.5)·(W/W') − 0.5</c>, source coordinates clamped
    /// to the border. OpenCV blends uint8 in 11-bit fixed point; this blends in float32 and rounds to nearest, so a
    /// pixel may differ from cv2 by 1 (well inside the photometric augmentation's noise).
    /// </summary>
    public static RgbImage Bilinear(RgbImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        return BilinearWindow(source, width, height, 0, 0, width, height);
    }

    /// <summary>
    /// The <paramref name="windowWidth"/>×<paramref name="windowHeight"/> region at (<paramref name="left"/>,
    /// <paramref name="top"/>) of <see cref="Bilinear"/>'s resize of <paramref name="source"/> to
    /// <paramref name="width"/>×<paramref name="height"/>, the same bytes: each pixel depends only on its own taps, so a
    /// crop of a rescaled image costs the crop's pixels instead of the whole rescaled image's.
    /// </summary>
    public static RgbImage BilinearWindow(RgbImage source, int width, int height, int left, int top, int windowWidth, int windowHeight)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (left < 0 || top < 0 || windowWidth <= 0 || windowHeight <= 0 || left + windowWidth > width || top + windowHeight > height)
            throw new ArgumentOutOfRangeException(nameof(left), $"window {windowWidth}x{windowHeight} at ({left}, {top}) is not inside the {width}x{height} resize");
        if (width == source.Width && height == source.Height)
            return source.Crop(left, top, windowWidth, windowHeight);
        var target = new RgbImage(windowWidth, windowHeight);
        (int[] x0, int[] x1, float[] ax) = Taps(source.Width, width);
        (int[] y0, int[] y1, float[] ay) = Taps(source.Height, height);
        byte[] s = source.Pixels, d = target.Pixels;
        int sourceRow = source.Width * 3;
        for (int y = 0; y < windowHeight; y++)
        {
            int top0 = y0[top + y] * sourceRow, bottom = y1[top + y] * sourceRow;
            float wy = ay[top + y];
            for (int x = 0; x < windowWidth; x++)
            {
                int leftTap = x0[left + x] * 3, rightTap = x1[left + x] * 3, o = (y * windowWidth + x) * 3;
                float wx = ax[left + x];
                for (int c = 0; c < 3; c++)
                {
                    float upper = s[top0 + leftTap + c] + wx * (s[top0 + rightTap + c] - s[top0 + leftTap + c]);
                    float lower = s[bottom + leftTap + c] + wx * (s[bottom + rightTap + c] - s[bottom + leftTap + c]);
                    float value = upper + wy * (lower - upper);
                    d[o + c] = (byte)Math.Clamp((int)MathF.Round(value, MidpointRounding.AwayFromZero), 0, 255);
                }
            }
        }
        return target;
    }

    /// <summary>Nearest resize as OpenCV's <c>INTER_NEAREST</c>: <c>sx = min(floor(dx·(W/W')), W−1)</c>, not half-pixel.</summary>
    public static LabelMap Nearest(LabelMap source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        var target = new LabelMap(width, height);
        int[] xs = NearestTaps(source.Width, width), ys = NearestTaps(source.Height, height);
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = source.Labels.AsSpan(ys[y] * source.Width, source.Width);
            Span<byte> outRow = target.Labels.AsSpan(y * width, width);
            for (int x = 0; x < width; x++)
                outRow[x] = row[xs[x]];
        }
        return target;
    }

    private static int[] NearestTaps(int source, int target)
    {
        double inverse = 1.0 / ((double)target / source); // OpenCV: ifx = 1./inv_scale_x
        var taps = new int[target];
        for (int i = 0; i < target; i++)
            taps[i] = Math.Min((int)Math.Floor(i * inverse), source - 1);
        return taps;
    }

    private static (int[] Low, int[] High, float[] Weight) Taps(int source, int target)
    {
        double scale = (double)source / target;
        var low = new int[target];
        var high = new int[target];
        var weight = new float[target];
        for (int i = 0; i < target; i++)
        {
            float f = (float)((i + 0.5) * scale - 0.5);
            int s = (int)MathF.Floor(f);
            f -= s;
            if (s < 0)
            {
                s = 0;
                f = 0;
            }
            if (s >= source - 1)
            {
                s = source - 1;
                f = 0;
            }
            low[i] = s;
            high[i] = Math.Min(s + 1, source - 1);
            weight[i] = f;
        }
        return (low, high, weight);
    }
}
