using ReClip.Model.ReClip;

namespace ReClip.Model.Eval;

/// <summary>
/// The frozen CLIP features of a split's images kept in memory between evaluations, by image file, so that a
/// training loop validates every epoch without re-running CLIP (the head changes, CLIP does not). Every entry was
/// computed under one segmenter's encoding settings; a segmenter with other settings is refused. Memory: per image,
/// h·w·(E + Dv) floats per window (a 21×28 VOC grid of ViT-B/16: 2.9 MB).
/// </summary>
public sealed class FrozenFeatureCache : IDisposable
{
    private readonly Dictionary<string, FrozenFeatures> entries = new(StringComparer.Ordinal);
    private (int ScaleLong, int ScaleShort, bool Slide, int Crop)? settings;

    public int Count => entries.Count;

    /// <summary>The cached features of <paramref name="imagePath"/>, or <paramref name="encode"/>'s, which are then kept.</summary>
    public FrozenFeatures GetOrAdd(Segmenter segmenter, string imagePath, Func<FrozenFeatures> encode)
    {
        ArgumentNullException.ThrowIfNull(segmenter);
        ArgumentNullException.ThrowIfNull(imagePath);
        ArgumentNullException.ThrowIfNull(encode);
        settings ??= segmenter.EncodingSettings;
        if (settings != segmenter.EncodingSettings)
            throw new InvalidOperationException($"FrozenFeatureCache: features cached at {settings} do not fit a segmenter encoding at {segmenter.EncodingSettings}");
        if (entries.TryGetValue(imagePath, out FrozenFeatures? cached))
            return cached;
        FrozenFeatures frozen = encode();
        entries.Add(imagePath, frozen);
        return frozen;
    }

    public void Dispose()
    {
        foreach (FrozenFeatures frozen in entries.Values)
            frozen.Dispose();
        entries.Clear();
    }
}
