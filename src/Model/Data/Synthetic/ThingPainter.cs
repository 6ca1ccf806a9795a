namespace ReClip.Model.Data.Synthetic;

/// <summary>
/// Draws the things over the surfaces, each where its class belongs — the sun in the sky, a boat on water, a
/// car on the road, a tree on grass, an umbrella on sand, a ball on any ground — so things co-occur with their
/// surface (class preference) and sit at typical heights (space preference). Later things occlude earlier ones.
/// </summary>
internal sealed class ThingPainter(Random random, RgbImage image, LabelMap labels, SurfacePainter surfaces)
{
    private static readonly (byte R, byte G, byte B)[] BallColors = [(245, 130, 20), (220, 40, 200), (40, 220, 220), (140, 60, 200), (245, 245, 245)];

    public void Sun(int cx, int cy)
    {
        int radius = 16 + random.Next(16);
        (byte R, byte G, byte B) color = surfaces.Shade(250, 205 + random.Next(30), 40);
        Fill(cx - radius, cy - radius, cx + radius, cy + radius, SyntheticClasses.Sun, (x, y) => Disc(x - cx, y - cy, radius) ? color : null);
    }

    public void Tree(int baseX, int baseY)
    {
        int radius = 18 + random.Next(18), trunk = Math.Max(2, radius / 4), crownY = baseY - radius - trunk * 2;
        (byte R, byte G, byte B) bark = surfaces.Shade(95, 62, 30);
        Fill(baseX - radius, crownY - radius, baseX + radius, baseY, SyntheticClasses.Tree, (x, y) =>
            Disc(x - baseX, y - crownY, radius) ? surfaces.Shade(28, 92 + 25 * ((x + y) & 1), 30)
            : Math.Abs(x - baseX) <= trunk / 2 + 1 && y > crownY ? bark : null);
    }

    public void Boat(int baseX, int baseY)
    {
        int half = 22 + random.Next(16), hull = 12 + random.Next(8), mast = hull + 16 + random.Next(16);
        (byte R, byte G, byte B) wood = surfaces.Shade(125, 72, 38), sail = surfaces.Shade(240, 240, 232);
        Fill(baseX - half, baseY - hull - mast, baseX + half, baseY, SyntheticClasses.Boat, (x, y) =>
        {
            int dx = x - baseX, up = baseY - y;
            if (up <= hull && Math.Abs(dx) <= half - (hull - up)) return wood;
            int sailHeight = up - hull;
            return sailHeight > 0 && sailHeight <= mast && dx >= 0 && dx <= (mast - sailHeight) * half / (mast + 2) ? sail : null;
        });
    }

    public void Car(int baseX, int baseY)
    {
        int half = 24 + random.Next(16), body = 16 + random.Next(8), wheel = 6 + random.Next(4);
        (byte R, byte G, byte B) paint = random.NextSingle() < 0.8f ? surfaces.Shade(205, 30, 30) : surfaces.Shade(40, 60, 205);
        (byte R, byte G, byte B) glass = surfaces.Shade(170, 210, 235), tyre = surfaces.Shade(20, 20, 20);
        int top = baseY - wheel - body;
        Fill(baseX - half, top - body / 2, baseX + half, baseY, SyntheticClasses.Car, (x, y) =>
        {
            int dx = x - baseX;
            if (Disc(dx + half * 2 / 3, y - (baseY - wheel), wheel) || Disc(dx - half * 2 / 3, y - (baseY - wheel), wheel)) return tyre;
            if (y >= top && y < baseY - wheel && Math.Abs(dx) <= half) return paint;
            return y < top && Math.Abs(dx) <= half / 2 ? (y < top - body / 4 ? paint : glass) : null;
        });
    }

    public void Umbrella(int baseX, int baseY)
    {
        int radius = 22 + random.Next(14), pole = radius + 12;
        (byte R, byte G, byte B) red = surfaces.Shade(215, 35, 40), white = surfaces.Shade(245, 245, 245), stick = surfaces.Shade(60, 60, 60);
        int canopyY = baseY - pole;
        Fill(baseX - radius, canopyY - radius, baseX + radius, baseY, SyntheticClasses.Umbrella, (x, y) =>
        {
            int dx = x - baseX;
            if (y <= canopyY && Disc(dx, y - canopyY, radius)) return ((dx + radius) / 4 & 1) == 0 ? red : white;
            return y > canopyY && Math.Abs(dx) <= 2 ? stick : null;
        });
    }

    public void Ball(int cx, int cy)
    {
        int radius = 10 + random.Next(12);
        (byte R, byte G, byte B) c = BallColors[random.Next(BallColors.Length)];
        (byte R, byte G, byte B) color = surfaces.Shade(c.R, c.G, c.B);
        Fill(cx - radius, cy - radius, cx + radius, cy + radius, SyntheticClasses.Ball, (x, y) => Disc(x - cx, y - cy, radius) ? color : null);
    }

    private static bool Disc(int dx, int dy, int radius) => dx * dx + dy * dy <= radius * radius;

    /// <summary>Paints every pixel of the box (clipped to the image) that <paramref name="shape"/> colours, and labels it.</summary>
    private void Fill(int left, int top, int right, int bottom, byte label, Func<int, int, (byte R, byte G, byte B)?> shape)
    {
        for (int y = Math.Max(0, top); y <= Math.Min(image.Height - 1, bottom); y++)
            for (int x = Math.Max(0, left); x <= Math.Min(image.Width - 1, right); x++)
                if (shape(x, y) is (byte r, byte g, byte b))
                {
                    image.Set(x, y, r, g, b);
                    labels[x, y] = label;
                }
    }
}
