namespace ReClip.Model.Data.Synthetic;

/// <summary>
/// Where the stuff surfaces lie: sky above a tilted horizon, one ground surface below it, and optionally a
/// second ground surface — a road band along the bottom or a wavy split down the middle. Sky is always at the
/// top and road at the bottom: the positional priors that give plain CLIP its space preference.
/// </summary>
internal sealed class SceneLayout
{
    private readonly float horizon, slope, splitX, splitPhase, bandTop;
    private readonly int width;
    private readonly byte second;

    public SceneLayout(Random random, int width, int height)
    {
        this.width = width;
        horizon = height * (0.25f + 0.3f * random.NextSingle());
        slope = (random.NextSingle() * 2 - 1) * 0.15f;
        Ground = Pick(random, [(SyntheticClasses.Grass, 0.35f), (SyntheticClasses.Water, 0.3f), (SyntheticClasses.Sand, 0.2f), (SyntheticClasses.Road, 0.15f)]);
        second = byte.MaxValue;
        splitX = float.NaN;
        bandTop = float.NaN;
        if (random.NextSingle() < 0.6f)
        {
            if (Ground != SyntheticClasses.Road && random.NextSingle() < 0.45f)
            {
                second = SyntheticClasses.Road;
                bandTop = height * (0.72f + 0.12f * random.NextSingle());
            }
            else
            {
                do second = Pick(random, [(SyntheticClasses.Grass, 1f), (SyntheticClasses.Water, 1f), (SyntheticClasses.Sand, 1f)]);
                while (second == Ground);
                splitX = width * (0.3f + 0.4f * random.NextSingle());
                splitPhase = random.NextSingle() * 6.28f;
            }
        }
    }

    public byte Ground { get; }

    /// <summary>The stuff classes this layout uses.</summary>
    public IEnumerable<byte> Surfaces => second == byte.MaxValue ? [SyntheticClasses.Sky, Ground] : [SyntheticClasses.Sky, Ground, second];

    public float HorizonAt(float x) => horizon + slope * (x - width / 2f);

    public byte SurfaceAt(int x, int y)
    {
        if (y < HorizonAt(x)) return SyntheticClasses.Sky;
        if (!float.IsNaN(bandTop) && y >= bandTop) return second;
        if (!float.IsNaN(splitX) && x >= splitX + 5 * MathF.Sin(y / 8f + splitPhase)) return second;
        return Ground;
    }

    private static byte Pick(Random random, (byte Class, float Weight)[] choices)
    {
        float total = choices.Sum(c => c.Weight), r = random.NextSingle() * total;
        foreach ((byte label, float weight) in choices)
            if ((r -= weight) < 0) return label;
        return choices[^1].Class;
    }
}
