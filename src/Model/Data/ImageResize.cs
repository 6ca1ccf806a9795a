namespace ReClip.Model.Data;

/// <summary>
/// The resizes of the authors' pipeline, byte for byte as OpenCV's <c>cv2.resize</c> makes them: bilinear for images
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
    /// Bilinear resize as OpenCV's <c>cv2.resize(INTER_LINEAR)</c> computes it on uint8, the same bytes as OpenCV 4.6
    /// (Debian's build; checked against it: tests/fixtures/opencv). Source coordinates are half-pixel,
    /// <c>(d + 0.5)·(W/W') − 0.5</c> in float32, and their weights 11-bit fixed point; see <see cref="AxisTaps"/> and
    /// <see cref="VerticalBlend"/> for how OpenCV rounds. An exact halving of both sides is OpenCV's area average
    /// instead, as OpenCV switches to it.
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
        if (source.Width == 2 * width && source.Height == 2 * height)
            AverageQuads(source, target, left, top);
        else
            Blend(source, target, AxisTaps(source.Width, width, left, windowWidth, clampWeights: true),
                AxisTaps(source.Height, height, top, windowHeight, clampWeights: false));
        return target;
    }

    /// <summary>
    /// OpenCV's <c>INTER_LINEAR</c> with both scale factors exactly 2 runs as <c>INTER_AREA</c>: each pixel is the
    /// mean of its 2×2 source block, <c>(a + b + c + d + 2) &gt;&gt; 2</c>.
    /// </summary>
    private static void AverageQuads(RgbImage source, RgbImage target, int left, int top)
    {
        byte[] s = source.Pixels, d = target.Pixels;
        int sourceRow = source.Width * 3;
        for (int y = 0; y < target.Height; y++)
            for (int x = 0; x < target.Width; x++)
            {
                int upper = 2 * (top + y) * sourceRow + 2 * (left + x) * 3, lower = upper + sourceRow, o = (y * target.Width + x) * 3;
                for (int c = 0; c < 3; c++)
                    d[o + c] = (byte)((s[upper + c] + s[upper + 3 + c] + s[lower + c] + s[lower + 3 + c] + 2) >> 2);
            }
    }

    /// <summary>Each channel: the two source rows blended across (integers, weights summing to about 2048), then down.</summary>
    private static void Blend(RgbImage source, RgbImage target, AxisTap[] columns, AxisTap[] rows)
    {
        byte[] s = source.Pixels, d = target.Pixels;
        int sourceRow = source.Width * 3;
        for (int y = 0; y < rows.Length; y++)
        {
            AxisTap row = rows[y];
            int upperRow = row.Low * sourceRow, lowerRow = row.High * sourceRow;
            for (int x = 0; x < columns.Length; x++)
            {
                AxisTap column = columns[x];
                int leftTap = column.Low * 3, rightTap = column.High * 3, o = (y * columns.Length + x) * 3;
                for (int c = 0; c < 3; c++)
                {
                    int upper = s[upperRow + leftTap + c] * column.LowWeight + s[upperRow + rightTap + c] * column.HighWeight;
                    int lower = s[lowerRow + leftTap + c] * column.LowWeight + s[lowerRow + rightTap + c] * column.HighWeight;
                    d[o + c] = VerticalBlend(upper, lower, row.LowWeight, row.HighWeight);
                }
            }
        }
    }

    /// <summary>
    /// OpenCV's vertical step on uint8 as its vector code does it (<c>VResizeLinearVec_32s8u</c>), which OpenCV 4.6
    /// ran for every pixel of every size checked: each row value (2048-scaled) drops 4 bits to fit 16 bits (at most
    /// 255·2049 &gt;&gt; 4 = 32655, so it never saturates), each product with its weight keeps its high 16 bits, and
    /// the sum rounds by <c>+2 &gt;&gt; 2</c>. Exact integer rounding would give another byte for about one value in eight.
    /// </summary>
    private static byte VerticalBlend(int upper, int lower, int upperWeight, int lowerWeight)
    {
        int sum = ((upper >> 4) * upperWeight >> 16) + ((lower >> 4) * lowerWeight >> 16);
        return (byte)Math.Clamp((sum + 2) >> 2, 0, 255);
    }

    /// <summary>A target position's two source taps and their 11-bit weights.</summary>
    private readonly record struct AxisTap(int Low, int High, int LowWeight, int HighWeight);

    /// <summary>
    /// The taps of target positions <paramref name="first"/>.. of an axis resized from <paramref name="source"/> to
    /// <paramref name="target"/>, as OpenCV computes them: the scale as <c>1/(target/source)</c> in double, the
    /// position in float32, the weights <c>1 − f</c> and <c>f</c> times 2048 rounded half to even. Past a border,
    /// columns clamp the position and drop the fraction (<paramref name="clampWeights"/>), rows clamp the row and keep
    /// the weights.
    /// </summary>
    private static AxisTap[] AxisTaps(int source, int target, int first, int count, bool clampWeights)
    {
        const float CoefficientScale = 2048;
        double scale = 1.0 / ((double)target / source);
        var taps = new AxisTap[count];
        for (int i = 0; i < count; i++)
        {
            float f = (float)((first + i + 0.5) * scale - 0.5);
            int s = (int)MathF.Floor(f);
            f -= s;
            if (clampWeights && s < 0)
                (s, f) = (0, 0);
            if (clampWeights && s >= source - 1)
                (s, f) = (source - 1, 0);
            taps[i] = new AxisTap(Math.Clamp(s, 0, source - 1), Math.Clamp(s + 1, 0, source - 1),
                (int)MathF.Round((1 - f) * CoefficientScale, MidpointRounding.ToEven), (int)MathF.Round(f * CoefficientScale, MidpointRounding.ToEven));
        }
        return taps;
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
}
