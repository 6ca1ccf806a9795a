using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Eval;

/// <summary>
/// The frozen CLIP features of a split's images kept in memory between evaluations, by image file, so that a
/// training loop validates every epoch without re-running CLIP (the head changes, CLIP does not). Every entry was
/// computed under one segmenter's encoding settings; a segmenter with other settings is refused. The positional grid
/// depends on the grid size only, so images of one grid size share one copy: per image, h·w·E floats per window
/// (a 21×28 VOC grid of ViT-B/16: 1.2 MB; the grid would add 1.8 MB).
/// </summary>
public sealed class FrozenFeatureCache : IDisposable
{
    private readonly Dictionary<string, FrozenFeatures> entries = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Rows, int Columns), Tensor> grids = [];
    private (int ScaleLong, int ScaleShort, bool Slide, int Crop)? settings;

    public int Count => entries.Count;

    /// <summary>Whether the features of <paramref name="imagePath"/> are kept.</summary>
    public bool Contains(string imagePath) => entries.ContainsKey(imagePath);

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
        FrozenFeatures frozen = SharingGrids(encode());
        entries.Add(imagePath, frozen);
        return frozen;
    }

    /// <summary>The same features with each window's positional grid a view of the cached grid of its size (tensors share storage by reference count).</summary>
    private FrozenFeatures SharingGrids(FrozenFeatures frozen)
    {
        var windows = new List<FeatureWindow>(frozen.Windows.Count);
        try
        {
            foreach (FeatureWindow window in frozen.Windows)
            {
                DenseFeatures dense = window.Features;
                if (!grids.TryGetValue((dense.Rows, dense.Columns), out Tensor? grid))
                    grids.Add((dense.Rows, dense.Columns), grid = dense.PositionalGrid.Reshape(dense.PositionalGrid.Shape));
                // Grids of one size are equal by construction; checking costs one comparison per image.
                Tensor shared = grid.AsSpan<float>().SequenceEqual(dense.PositionalGrid.AsSpan<float>()) ? grid : dense.PositionalGrid;
                windows.Add(window with { Features = new DenseFeatures(dense.Features.Reshape(dense.Features.Shape), shared.Reshape(shared.Shape), dense.Rows, dense.Columns) });
            }
            return new FrozenFeatures(windows, frozen.ResizedWidth, frozen.ResizedHeight, frozen.ImageWidth, frozen.ImageHeight);
        }
        catch
        {
            foreach (FeatureWindow window in windows) window.Features.Dispose();
            throw;
        }
        finally
        {
            frozen.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (FrozenFeatures frozen in entries.Values)
            frozen.Dispose();
        foreach (Tensor grid in grids.Values)
            grid.Dispose();
        entries.Clear();
        grids.Clear();
    }
}
