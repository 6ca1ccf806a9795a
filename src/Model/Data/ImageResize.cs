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
        var target = new RgbImage(width, height);
        if (width == source.Width && height == source.Height)
        {
            source.Pixels.CopyTo(target.Pixels, 0);
            return target;
        }
        (int[] x0, int[] x1, float[] ax) = Taps(source.Width, width);
        (int[] y0, int[] y1, float[] ay) = Taps(source.Height, height);
        byte[] s = source.Pixels, d = target.Pixels;
        int sourceRow = source.Width * 3;
        for (int y = 0; y < height; y++)
        {
            int top = y0[y] * sourceRow, bottom = y1[y] * sourceRow;
            float wy = ay[y];
            for (int x = 0; x < width; x++)
            {
                int left = x0[x] * 3, right = x1[x] * 3, o = (y * width + x) * 3;
                float wx = ax[x];
                for (int c = 0; c < 3; c++)
                {
                    float upper = s[top + left + c] + wx * (s[top + right + c] - s[top + left + c]);
                    float lower = s[bottom + left + c] + wx * (s[bottom + right + c] - s[bottom + left + c]);
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
