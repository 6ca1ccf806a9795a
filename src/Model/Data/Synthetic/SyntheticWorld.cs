namespace ReClip.Model.Data.Synthetic;

/// <summary>
/// A deterministic generator of segmentation scenes: (seed, index) → image, exact labels, caption. Each scene
/// is sky over a tilted horizon, one or two ground surfaces, and up to four things placed where their class
/// belongs (docs/SYNTHETIC_WORLD.md explains the world and the biases it builds in on purpose). Captions name the things
/// with their surface and their height in the picture, the positional prior a CLIP trained on them absorbs.
/// </summary>
public static class SyntheticWorld
{
    public const int DefaultSize = 128;

    /// <summary>The smallest scene side the generator draws.</summary>
    public const int MinSize = 64;

    /// <summary>
    /// The largest scene side. Things are drawn at fixed pixel sizes meant for the 128-pixel scene (a ball's radius is
    /// 10–21 px, docs/SYNTHETIC_WORLD.md), so at 8× that side they are specks; a 1024-pixel scene still takes about half
    /// a second and 4 MiB, whereas an unbounded side overflows the image's byte count or runs for minutes per scene.
    /// </summary>
    public const int MaxSize = 1024;

    /// <summary>
    /// Changes whenever the same (seed, index, size) would give other pixels, labels or captions, so that scenes
    /// cached by an earlier version are regenerated rather than reused.
    /// </summary>
    public const int Version = 2;

    private const int PlacementTries = 30;

    public static SyntheticScene Generate(int seed, int index, int size = DefaultSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, MinSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);
        var random = new Random(Mix(seed, index));
        var layout = new SceneLayout(random, size, size);
        var surfaces = new SurfacePainter(random);
        var image = new RgbImage(size, size);
        var labels = new LabelMap(size, size);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                byte surface = layout.SurfaceAt(x, y);
                (byte r, byte g, byte b) = surfaces.Color(surface, x, y, layout.HorizonAt(x));
                image.Set(x, y, r, g, b);
                labels[x, y] = surface;
            }

        var painter = new ThingPainter(random, image, labels, surfaces);
        var phrases = new List<string>();
        float skyDepth = Math.Min(layout.HorizonAt(0), layout.HorizonAt(size - 1));
        if (skyDepth > 26 && random.NextSingle() < 0.5f)
        {
            int y = 10 + random.Next((int)skyDepth - 20);
            painter.Sun(10 + random.Next(size - 20), y);
            phrases.Add($"the sun in the sky {Height(y, size)}");
        }
        Place(SyntheticClasses.Tree, SyntheticClasses.Grass, 0.6f, painter.Tree);
        Place(SyntheticClasses.Boat, SyntheticClasses.Water, 0.6f, painter.Boat);
        Place(SyntheticClasses.Car, SyntheticClasses.Road, 0.7f, painter.Car);
        Place(SyntheticClasses.Umbrella, SyntheticClasses.Sand, 0.6f, painter.Umbrella);
        if (random.NextSingle() < 0.35f && FindSpot(layout.Ground) is (int bx, int by))
        {
            painter.Ball(bx, by);
            phrases.Add($"a ball on the {SyntheticClasses.Names[layout.Ground]}");
        }

        string ground = string.Join(" and ", layout.Surfaces.Where(s => s != SyntheticClasses.Sky).Select(s => SyntheticClasses.Names[s]));
        string caption = phrases.Count == 0 ? $"a photo of {ground} under the sky ." : $"a photo of {string.Join(" and ", phrases)} , {ground} under the sky .";
        int[] present = [.. labels.Labels.Distinct().Select(l => (int)l).Order()];
        return new SyntheticScene(image, labels, caption, present);

        void Place(byte thing, byte host, float probability, Action<int, int> draw)
        {
            if (!layout.Surfaces.Contains(host) || random.NextSingle() >= probability || FindSpot(host) is not (int x, int y))
                return;
            draw(x, y);
            phrases.Add($"a {SyntheticClasses.Names[thing]} on the {SyntheticClasses.Names[host]} {Height(y, size)}");
        }

        (int, int)? FindSpot(byte host)
        {
            for (int attempt = 0; attempt < PlacementTries; attempt++)
            {
                int x = 8 + random.Next(size - 16), y = 8 + random.Next(size - 12);
                if (labels[x, y] == host && y > layout.HorizonAt(x) + 6)
                    return (x, y);
            }
            return null;
        }
    }

    private static string Height(int y, int size) => y < size / 3 ? "at the top" : y < 2 * size / 3 ? "in the middle" : "at the bottom";

    /// <summary>One well-mixed 31-bit seed per (seed, index), so neighbouring indices give unrelated scenes.</summary>
    private static int Mix(int seed, int index)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }
}
