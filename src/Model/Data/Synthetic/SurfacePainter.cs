namespace ReClip.Model.Data.Synthetic;

/// <summary>
/// The textures of the five surfaces: each a base colour with its own kind of noise, so that colour and
/// texture (what a small CLIP learns first) tell them apart — sky a smooth gradient, grass speckled, water
/// banded by waves, sand fine-grained, road dark and even. A per-image brightness jitter keeps colours varied.
/// </summary>
internal sealed class SurfacePainter(Random random)
{
    private readonly ValueNoise coarse = new((uint)random.Next());
    private readonly ValueNoise fine = new((uint)random.Next());
    private readonly float brightness = 0.85f + 0.3f * random.NextSingle();
    private readonly float wavePhase = random.NextSingle() * 6.28f;

    public (byte R, byte G, byte B) Color(byte surface, int x, int y, float horizon) => surface switch
    {
        SyntheticClasses.Sky => Shade(95 + 40 * y / Math.Max(horizon, 1), 150 + 30 * y / Math.Max(horizon, 1), 230, 8 * coarse.Fractal(x / 24f, y / 24f, 2)),
        SyntheticClasses.Grass => Shade(55, 135, 45, 28 * fine.Fractal(x / 2.5f, y / 2.5f, 2)),
        SyntheticClasses.Water => Shade(35, 85, 165, 22 * MathF.Sin(y * 0.9f + wavePhase + 2 * coarse.Sample(x / 10f, y / 6f))),
        SyntheticClasses.Sand => Shade(215, 190, 130, 14 * fine.Sample(x * 0.9f, y * 0.9f)),
        SyntheticClasses.Road => Shade(78, 78, 84, 8 * fine.Fractal(x / 1.5f, y / 1.5f, 2)),
        _ => throw new ArgumentOutOfRangeException(nameof(surface), surface, "not a surface"),
    };

    /// <summary>A colour scaled by the image's brightness and shifted by a texture offset, clamped to bytes.</summary>
    public (byte R, byte G, byte B) Shade(float r, float g, float b, float offset = 0) =>
        (Clamp(r * brightness + offset), Clamp(g * brightness + offset), Clamp(b * brightness + offset));

    private static byte Clamp(float value) => (byte)Math.Clamp(MathF.Round(value), 0, 255);
}
