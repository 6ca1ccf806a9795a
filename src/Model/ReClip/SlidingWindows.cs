namespace ReClip.Model.ReClip;

/// <summary>
/// The windows of mmseg's slide inference (not the ReCLIP++ protocol, which is whole-image, spec §10 step 1):
/// crops of <c>crop</c> pixels every <c>stride</c> pixels, the last row and column moved back so that they end at
/// the image's edge; an image smaller than the crop gets one window of its own size on that axis.
/// </summary>
public static class SlidingWindows
{
    /// <summary>MaskCLIP's slide configurations step by about two thirds of the crop.</summary>
    public static int DefaultStride(int crop) => Math.Max(1, crop * 2 / 3);

    public static IReadOnlyList<(int X, int Y, int Width, int Height)> Of(int width, int height, int crop, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(crop);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        var windows = new List<(int, int, int, int)>();
        int rows = Steps(height, crop, stride), columns = Steps(width, crop, stride);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                (int y, int h) = Span(r, height, crop, stride);
                (int x, int w) = Span(c, width, crop, stride);
                windows.Add((x, y, w, h));
            }
        return windows;
    }

    /// <summary>mmseg: max(size − crop + stride − 1, 0) // stride + 1.</summary>
    private static int Steps(int size, int crop, int stride) => Math.Max(size - crop + stride - 1, 0) / stride + 1;

    private static (int Start, int Length) Span(int index, int size, int crop, int stride)
    {
        int end = Math.Min(index * stride + crop, size);
        int start = Math.Max(end - crop, 0);
        return (start, end - start);
    }
}
