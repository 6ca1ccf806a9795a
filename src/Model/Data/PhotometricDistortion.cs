using System.Runtime.CompilerServices;

namespace ReClip.Model.Data;

/// <summary>
/// mmseg's PhotoMetricDistortion as the authors' <c>preprocess.py:206-234</c> runs it (spec §1.3 step 5), on uint8
/// pixels in place: brightness, then contrast first or last, saturation and hue through OpenCV's uint8 HSV
/// (H in [0, 180)), converted byte for byte as OpenCV converts. Kept quirk of the authors' code: the saturation
/// product is cast to uint8 without clipping, so it wraps modulo 256 (numpy on x86). Channel order does not matter:
/// OpenCV's BGR→HSV of BGR bytes equals RGB→HSV of the same pixel in RGB order (and so back), and brightness/contrast
/// treat channels alike.
/// </summary>
public static class PhotometricDistortion
{
    public const double BrightnessDelta = 32, ContrastLow = 0.5, ContrastHigh = 1.5, SaturationLow = 0.5, SaturationHigh = 1.5;
    public const int HueDelta = 18;

    private const int HsvShift = 12;
    private static readonly int[] SaturationDivision = Table(i => 255.0 * (1 << HsvShift) / i);
    private static readonly int[] HueDivision = Table(i => 180.0 * (1 << HsvShift) / (6.0 * i));

    public static void Apply(RgbImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        byte[] p = image.Pixels;
        if (random.Next(2) == 1)
            Convert(p, 1, Uniform(random, -BrightnessDelta, BrightnessDelta));
        int mode = random.Next(2);
        if (mode == 1 && random.Next(2) == 1)
            Convert(p, Uniform(random, ContrastLow, ContrastHigh), 0);
        if (random.Next(2) == 1)
            Saturate(image, Uniform(random, SaturationLow, SaturationHigh));
        if (random.Next(2) == 1)
            ShiftHue(image, random.Next(-HueDelta, HueDelta)); // numpy randint(-18, 18): [-18, 17]
        if (mode == 0 && random.Next(2) == 1)
            Convert(p, Uniform(random, ContrastLow, ContrastHigh), 0);
    }

    /// <summary>
    /// The saturation step: to HSV, S times <paramref name="alpha"/> in float32 (numpy multiplies a float32 array by a
    /// Python float in float32) cast to uint8 without clipping (the authors' wrap modulo 256), and back.
    /// </summary>
    public static void Saturate(RgbImage image, double alpha)
    {
        ArgumentNullException.ThrowIfNull(image);
        ForEachHsv(image.Pixels, image.Width, new Saturation((float)alpha));
    }

    /// <summary>The hue step: to HSV, H plus <paramref name="delta"/> modulo 180, and back.</summary>
    public static void ShiftHue(RgbImage image, int delta)
    {
        ArgumentNullException.ThrowIfNull(image);
        ForEachHsv(image.Pixels, image.Width, new Hue(delta));
    }

    /// <summary>mmseg's convert: float32 <c>x·alpha + beta</c>, clipped to [0, 255], cast to uint8 (truncation).</summary>
    public static void Convert(Span<byte> pixels, double alpha, double beta)
    {
        float a = (float)alpha, b = (float)beta;
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)Math.Clamp(pixels[i] * a + b, 0f, 255f);
    }

    /// <summary>OpenCV's RGB2HSV_b: integer tables with 12 fractional bits; H in [0, 180), S and V in [0, 255].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (byte H, byte S, byte V) RgbToHsv(byte r, byte g, byte b)
    {
        int v = Math.Max(b, Math.Max(g, r)), min = Math.Min(b, Math.Min(g, r));
        int diff = v - min;
        int vr = v == r ? -1 : 0, vg = v == g ? -1 : 0;
        int s = (diff * SaturationDivision[v] + (1 << (HsvShift - 1))) >> HsvShift;
        int h = (vr & (g - b)) + (~vr & ((vg & (b - r + 2 * diff)) + (~vg & (r - g + 4 * diff))));
        h = (h * HueDivision[diff] + (1 << (HsvShift - 1))) >> HsvShift;
        h += h < 0 ? 180 : 0;
        return ((byte)Math.Min(h, 255), (byte)s, (byte)v);
    }

    /// <summary>
    /// OpenCV's uint8 HSV→RGB (HSV2RGB_b) converts a row's pixels in blocks of <see cref="VectorBlockPixels"/> with its
    /// vector code and the rest of the row, past the last whole block, with its scalar code; the two round differently
    /// (<see cref="HsvToRgb"/>). 32 is the block of its AVX2 build, which OpenCV's dispatcher runs on any x86-64 CPU
    /// with AVX2 (AVX-512 ones included); a CPU without AVX2 would run blocks of 16.
    /// </summary>
    public const int VectorBlockPixels = 32;

    /// <summary>Whether OpenCV converts pixel <paramref name="x"/> of a row of <paramref name="width"/> with its vector code.</summary>
    public static bool InVectorBlock(int x, int width) => x < width / VectorBlockPixels * VectorBlockPixels;

    /// <summary>
    /// OpenCV's uint8 HSV→RGB (H in [0, 180)), the same bytes as OpenCV 4.6 (Debian's build) for all 180·256·256
    /// inputs on either of its paths (tests/fixtures/opencv): S and V scaled to [0, 1], the sector formula in float32,
    /// then ×255. The vector path (<paramref name="vectorBlock"/>) truncates and fuses both <c>1 − s·h</c> and
    /// <c>1 − s·(1 − h)</c> into single roundings (its compiler contracts them into fused multiply-adds); the scalar
    /// path rounds half to even and fuses only the first. Truncation makes the vector path darker by half a level on
    /// average.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (byte R, byte G, byte B) HsvToRgb(byte hue, byte saturation, byte value, bool vectorBlock)
    {
        const float HueScale = 6f / 180f, ByteScale = 1f / 255f;
        float h = hue * HueScale, s = saturation * ByteScale, v = value * ByteScale;
        int sector;
        if (vectorBlock)
        {
            // OpenCV takes the sector as whole − trunc(whole/6)·6; whole is at most 8 (H 255), so one subtraction does.
            float whole = MathF.Truncate(h);
            h -= whole;
            sector = (int)whole;
            if (sector >= 6)
                sector -= 6;
        }
        else
        {
            h %= 6f;
            sector = (int)MathF.Floor(h);
            h -= sector;
            if ((uint)sector >= 6u)
                (sector, h) = (0, 0);
        }
        float r, g, b;
        if (s == 0)
            r = g = b = v;
        else
        {
            float falling = v * MathF.FusedMultiplyAdd(-s, h, 1f);
            float rising = v * (vectorBlock ? MathF.FusedMultiplyAdd(-s, 1f - h, 1f) : 1f - s * (1f - h));
            float low = v * (1f - s);
            (b, g, r) = sector switch
            {
                0 => (low, rising, v),
                1 => (low, v, falling),
                2 => (rising, v, low),
                3 => (v, falling, low),
                4 => (v, low, rising),
                _ => (falling, low, v),
            };
        }
        return vectorBlock ? (Truncate(r), Truncate(g), Truncate(b)) : (Round(r), Round(g), Round(b));
    }

    /// <summary>An edit of one pixel's hue and saturation; a struct, so that the loop below is compiled for each edit with it inlined.</summary>
    private interface IHsvEdit
    {
        void Apply(ref byte h, ref byte s);
    }

    /// <summary>Saturation times alpha in float32, cast to uint8 without clipping (<see cref="Saturate"/>).</summary>
    private readonly struct Saturation(float alpha) : IHsvEdit
    {
        public void Apply(ref byte h, ref byte s) => s = (byte)((int)(s * alpha) & 0xFF);
    }

    /// <summary>Hue plus delta, modulo 180.</summary>
    private readonly struct Hue(int delta) : IHsvEdit
    {
        public void Apply(ref byte h, ref byte s) => h = (byte)(((h + delta) % 180 + 180) % 180);
    }

    /// <summary>The edit on every pixel of an image <paramref name="width"/> pixels wide, each row converted back as OpenCV converts it.</summary>
    private static void ForEachHsv<TEdit>(byte[] p, int width, TEdit edit) where TEdit : struct, IHsvEdit
    {
        int rowBytes = 3 * width, vectorBytes = 3 * (width / VectorBlockPixels * VectorBlockPixels);
        for (int row = 0; row < p.Length; row += rowBytes)
        {
            // Two loops with the path constant in each, so that the inlined conversion carries no branch on it.
            EditRun(p, row, row + vectorBytes, edit, vectorBlock: true);
            EditRun(p, row + vectorBytes, row + rowBytes, edit, vectorBlock: false);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EditRun<TEdit>(byte[] p, int start, int end, TEdit edit, bool vectorBlock) where TEdit : struct, IHsvEdit
    {
        for (int i = start; i < end; i += 3)
        {
            (byte h, byte s, byte v) = RgbToHsv(p[i], p[i + 1], p[i + 2]);
            edit.Apply(ref h, ref s);
            (p[i], p[i + 1], p[i + 2]) = HsvToRgb(h, s, v, vectorBlock);
        }
    }

    private static byte Round(float x) => (byte)Math.Clamp((int)MathF.Round(x * 255f, MidpointRounding.ToEven), 0, 255);

    private static byte Truncate(float x) => (byte)Math.Clamp((int)(x * 255f), 0, 255);

    private static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();

    private static int[] Table(Func<int, double> entry)
    {
        var table = new int[256];
        for (int i = 1; i < 256; i++)
            table[i] = (int)Math.Round(entry(i), MidpointRounding.ToEven);
        return table;
    }
}
