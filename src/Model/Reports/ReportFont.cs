using SkiaSharp;

namespace ReClip.Model.Reports;

/// <summary>
/// The typeface of every picture we draw. SkiaSharp's Linux build without dependencies has no font manager, so
/// <c>SKTypeface.Default</c> draws nothing; we ship DejaVu Sans Mono inside the assembly instead, which also makes
/// the pictures the same on every machine.
/// </summary>
public static class ReportFont
{
    private static readonly Lazy<SKTypeface> Loaded = new(() =>
    {
        using Stream stream = typeof(ReportFont).Assembly.GetManifestResourceStream("ReClip.Model.Reports.DejaVuSansMono.ttf")
            ?? throw new InvalidOperationException("the embedded DejaVu Sans Mono font is missing from ReClip.Model");
        return SKTypeface.FromStream(stream) ?? throw new InvalidOperationException("the embedded DejaVu Sans Mono font does not load");
    });

    public static SKTypeface Typeface => Loaded.Value;

    public static SKFont Font(float size) => new(Typeface, size);
}
