namespace ReClip.Model.Data.Synthetic;

/// <summary>
/// Smooth value noise in [−1, 1]: random values on an integer lattice (from an integer hash, so the same seed
/// gives the same texture on every machine), blended with a smoothstep. Sums of octaves make the textures.
/// </summary>
public readonly struct ValueNoise(uint seed)
{
    public float Sample(float x, float y)
    {
        int x0 = (int)MathF.Floor(x), y0 = (int)MathF.Floor(y);
        float fx = Smooth(x - x0), fy = Smooth(y - y0);
        float top = Lerp(Lattice(x0, y0), Lattice(x0 + 1, y0), fx);
        float bottom = Lerp(Lattice(x0, y0 + 1), Lattice(x0 + 1, y0 + 1), fx);
        return Lerp(top, bottom, fy);
    }

    /// <summary>Octaves at doubling frequency and halving amplitude, normalised back to about [−1, 1].</summary>
    public float Fractal(float x, float y, int octaves)
    {
        float sum = 0, amplitude = 1, total = 0;
        for (int i = 0; i < octaves; i++)
        {
            sum += amplitude * Sample(x, y);
            total += amplitude;
            x *= 2;
            y *= 2;
            amplitude /= 2;
        }
        return sum / total;
    }

    private float Lattice(int x, int y)
    {
        uint h = seed ^ ((uint)x * 0x8DA6B343u) ^ ((uint)y * 0xD8163841u);
        h ^= h >> 15;
        h *= 0x2C1B3C6Du;
        h ^= h >> 12;
        h *= 0x297A2D39u;
        h ^= h >> 15;
        return h / (float)uint.MaxValue * 2 - 1;
    }

    private static float Smooth(float t) => t * t * (3 - 2 * t);

    private static float Lerp(float a, float b, float t) => a + (b - a) * t;
}
