namespace ReClip.Model.Data;

/// <summary>
/// <c>PIL.Image.resize(size, Image.BICUBIC)</c> on an 8-bit RGB image, byte for byte: what torchvision's
/// <c>Resize</c> runs on a PIL image inside CLIP's preprocessing (spec §8). Separable, horizontal pass first, each
/// pass rounded and clamped to uint8. Keys' cubic with a = −0.5 (not PyTorch's −0.75); when shrinking, the kernel is
/// widened by the scale factor (an antialiasing filter), so every source pixel under a target pixel contributes.
/// The weights are computed in double, normalised to sum 1, then turned into 22-bit fixed point, and the sums are
/// integer: the same operations in the same order as Pillow's Resample.c, which is why the result is exact.
/// </summary>
public static class PilBicubicResize
{
    /// <summary>Pillow's PRECISION_BITS: 32 bits minus 8 for the pixel and 2 for the kernel's overshoot.</summary>
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>The cubic's support at scale 1 (it is zero from |x| = 2 on).</summary>
    private const double Support = 2.0;

    public static RgbImage Resize(RgbImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Taps horizontal = Taps.Of(source.Width, width);
        Taps vertical = Taps.Of(source.Height, height);
        RgbImage result = source;
        if (width != source.Width)
        {
            // Pillow filters only the rows the vertical pass reads; rows outside that band never reach the output.
            int first = height != source.Height ? vertical.Start[0] : 0;
            int last = height != source.Height ? vertical.Start[height - 1] + vertical.Count[height - 1] : source.Height;
            result = new RgbImage(width, last - first);
            Horizontal(source, first, result, horizontal);
            if (first != 0)
                vertical = vertical.Shifted(-first);
        }
        if (height != source.Height)
        {
            var target = new RgbImage(width, height);
            Vertical(result, target, vertical);
            result = target;
        }
        if (ReferenceEquals(result, source))
        {
            result = new RgbImage(width, height);
            source.Pixels.CopyTo(result.Pixels, 0);
        }
        return result;
    }

    private static void Horizontal(RgbImage source, int firstRow, RgbImage target, Taps taps)
    {
        int sourceRow = source.Width * 3, targetRow = target.Width * 3;
        for (int y = 0; y < target.Height; y++)
        {
            ReadOnlySpan<byte> row = source.Pixels.AsSpan((firstRow + y) * sourceRow, sourceRow);
            Span<byte> output = target.Pixels.AsSpan(y * targetRow, targetRow);
            for (int x = 0; x < target.Width; x++)
            {
                ReadOnlySpan<int> k = taps.Weights(x);
                int start = taps.Start[x] * 3;
                int r = Half, g = Half, b = Half;
                for (int i = 0; i < k.Length; i++)
                {
                    int p = start + i * 3;
                    r += row[p] * k[i];
                    g += row[p + 1] * k[i];
                    b += row[p + 2] * k[i];
                }
                output[x * 3] = Clip(r);
                output[x * 3 + 1] = Clip(g);
                output[x * 3 + 2] = Clip(b);
            }
        }
    }

    private static void Vertical(RgbImage source, RgbImage target, Taps taps)
    {
        int rowBytes = source.Width * 3;
        ReadOnlySpan<byte> pixels = source.Pixels;
        for (int y = 0; y < target.Height; y++)
        {
            ReadOnlySpan<int> k = taps.Weights(y);
            int start = taps.Start[y] * rowBytes;
            Span<byte> output = target.Pixels.AsSpan(y * rowBytes, rowBytes);
            for (int c = 0; c < rowBytes; c++)
            {
                int sum = Half;
                for (int i = 0; i < k.Length; i++)
                    sum += pixels[start + i * rowBytes + c] * k[i];
                output[c] = Clip(sum);
            }
        }
    }

    /// <summary>The rounding offset every fixed-point sum starts from.</summary>
    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>Pillow's clip8: the sum shifted down (a floor, so negative sums give 0), clamped to [0, 255].</summary>
    private static byte Clip(int sum) => (byte)Math.Clamp(sum >> PrecisionBits, 0, 255);

    /// <summary>Keys' cubic convolution kernel with a = −0.5, in the operation order of Pillow's bicubic_filter.</summary>
    private static double Cubic(double x)
    {
        const double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /// <summary>Per target pixel along one axis: the first source pixel, how many follow, and their fixed-point weights.</summary>
    private sealed class Taps
    {
        private readonly int[] weights;
        private readonly int stride;

        private Taps(int[] start, int[] count, int[] weights, int stride)
        {
            Start = start;
            Count = count;
            this.weights = weights;
            this.stride = stride;
        }

        public int[] Start { get; }

        public int[] Count { get; }

        public ReadOnlySpan<int> Weights(int target) => weights.AsSpan(target * stride, Count[target]);

        public Taps Shifted(int offset) => new([.. Start.Select(s => s + offset)], Count, weights, stride);

        /// <summary>Pillow's precompute_coeffs then normalize_coeffs_8bpc, for the whole source axis (no box).</summary>
        public static Taps Of(int sourceSize, int targetSize)
        {
            double scale = (double)sourceSize / targetSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = Support * filterScale;
            int stride = (int)Math.Ceiling(support) * 2 + 1;
            var start = new int[targetSize];
            var count = new int[targetSize];
            var fixedPoint = new int[targetSize * stride];
            var k = new double[stride];
            double inverse = 1.0 / filterScale;
            for (int t = 0; t < targetSize; t++)
            {
                double center = (t + 0.5) * scale;
                // C's (int) cast truncates towards zero; negative values are clamped to 0 right after.
                int min = Math.Max((int)(center - support + 0.5), 0);
                int n = Math.Min((int)(center + support + 0.5), sourceSize) - min;
                double total = 0.0;
                for (int i = 0; i < n; i++)
                {
                    double w = Cubic((i + min - center + 0.5) * inverse);
                    k[i] = w;
                    total += w;
                }
                for (int i = 0; i < n; i++)
                {
                    double w = total != 0.0 ? k[i] / total : k[i];
                    fixedPoint[t * stride + i] = w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
                }
                start[t] = min;
                count[t] = n;
            }
            return new Taps(start, count, fixedPoint, stride);
        }
    }
}
