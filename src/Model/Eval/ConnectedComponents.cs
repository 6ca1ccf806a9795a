namespace ReClip.Model.Eval;

/// <summary>
/// 4-connected component labelling of a label map: a component is a maximal set of pixels of the same class
/// joined through left/right/up/down neighbours (the ground-truth "objects" of the space-preference score,
/// docs/METRICS.md). Ignored pixels belong to no component. Components are numbered 0, 1, … in raster order of
/// their first pixel.
/// </summary>
public static class ConnectedComponents
{
    /// <summary>Writes each pixel's component (−1 for ignored pixels) and returns the number of components.</summary>
    public static int Label(ReadOnlySpan<int> labels, int width, int height, Span<int> components, int ignore = LabelMapIgnore)
    {
        if (width <= 0 || height <= 0 || labels.Length != (long)width * height || components.Length != labels.Length)
            throw new ArgumentException($"ConnectedComponents: {labels.Length} labels and {components.Length} component slots do not fit a {width}×{height} map");
        components.Fill(-1);
        // Explicit stack of pixel indices: a flood fill by recursion would overflow on a large region.
        int[] stack = new int[labels.Length];
        int count = 0;
        for (int seed = 0; seed < labels.Length; seed++)
        {
            if (components[seed] >= 0 || labels[seed] == ignore)
                continue;
            int label = labels[seed], top = 0;
            components[seed] = count;
            stack[top++] = seed;
            while (top > 0)
            {
                int i = stack[--top], x = i % width;
                // Neighbours left, right, up, down; −1 marks one outside the map.
                ReadOnlySpan<int> neighbours = [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, i - width, i + width < labels.Length ? i + width : -1];
                foreach (int j in neighbours)
                    if (j >= 0 && components[j] < 0 && labels[j] == label)
                    {
                        components[j] = count;
                        stack[top++] = j;
                    }
            }
            count++;
        }
        return count;
    }

    private const int LabelMapIgnore = Data.LabelMap.Ignore;
}
